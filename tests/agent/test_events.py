"""The in-process event bus: fan-out in order, a slow subscriber is dropped, never waited for."""

from __future__ import annotations

from agent.events import EventBus


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe(), bus.subscribe()
    for i in range(5):
        bus.publish({"type": "job", "id": f"ord-{i}", "state": "queued"})
    bus.close()
    got_a = [e["id"] async for e in a]
    got_b = [e["id"] async for e in b]
    assert got_a == got_b == [f"ord-{i}" for i in range(5)]


async def test_a_subscriber_that_falls_behind_is_dropped_and_others_keep_receiving() -> None:
    bus = EventBus()
    slow = bus.subscribe(backlog=3)
    fast = bus.subscribe(backlog=100)
    for i in range(10):
        bus.publish({"type": "printer", "id": "front", "state": "离线", "n": i})
        assert await fast.get() is not None
    assert slow.dropped and bus.subscribers == 1
    kept = [e["n"] async for e in slow]
    assert kept == [0, 1, 2]
    bus.publish({"type": "printer", "id": "front", "state": "ok", "n": 10})
    event = await fast.get()
    assert event is not None and event["n"] == 10


async def test_closing_a_subscription_stops_delivery() -> None:
    bus = EventBus()
    with bus.subscribe() as sub:
        bus.publish({"type": "job", "id": "a"})
    bus.publish({"type": "job", "id": "b"})
    assert [e["id"] async for e in sub] == ["a"]
    assert bus.subscribers == 0 and bus.published == 2
