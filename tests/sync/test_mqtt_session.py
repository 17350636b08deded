"""The MQTT session shell against a real mosquitto: persistent sessions, Will, manual ack,
keep-alive on a silently dead link, credentials and ACLs, jittered backoff."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from sync import mqtt_session
from sync.mqtt_session import (
    Connected,
    Disconnected,
    Message,
    MqttSession,
    SessionConfig,
    SessionEvent,
    Subscribed,
    Will,
)
from tests.agent.conftest import eventually
from tests.e2e.broker import Broker, broker
from tests.e2e.cutproxy import CutProxy

__all__ = ["broker"]
T = 20.0


def cfg(port: int, client_id: str, **kw: object) -> SessionConfig:
    base: dict[str, object] = {"reconnect_min_s": 0.05, "reconnect_max_s": 0.5,
                               "keepalive_s": 5}
    base.update(kw)
    return SessionConfig("127.0.0.1", port, client_id, **base)  # type: ignore[arg-type]


async def next_of(s: MqttSession, kind: type[SessionEvent], wait_s: float = T,
                  topic: str | None = None) -> SessionEvent:
    """The next event of `kind` (and topic), skipping others."""
    async def find() -> SessionEvent:
        while True:
            ev = await s.events.get()
            if isinstance(ev, kind) and (topic is None or getattr(ev, "topic", None) == topic):
                return ev
    return await asyncio.wait_for(find(), wait_s)


async def drain_messages(s: MqttSession, quiet: float = 0.5) -> list[Message]:
    out: list[Message] = []
    while True:
        try:
            ev = await asyncio.wait_for(s.events.get(), quiet)
        except TimeoutError:
            return out
        if isinstance(ev, Message):
            out.append(ev)


@pytest.fixture
async def sessions() -> AsyncIterator[list[MqttSession]]:
    made: list[MqttSession] = []
    yield made
    for s in made:
        await s.stop(wait_s=2)


async def started(made: list[MqttSession], c: SessionConfig,
                  will: Will | None = None, *, subscribed: bool = True) -> MqttSession:
    s = MqttSession(c, (lambda: will) if will else None, rng=random.Random(1))
    made.append(s)
    await s.start()
    await next_of(s, Connected)
    if c.subscriptions and subscribed:
        # Subscriptions are live once the broker's SUBACK arrives, not at CONNACK.
        assert isinstance(ev := await next_of(s, Subscribed), Subscribed) and not ev.refused
    return s


async def test_qos1_round_trip_with_puback(broker: Broker, sessions: list[MqttSession]) -> None:
    sub = await started(sessions, cfg(broker.port, "sub", subscriptions=(("t/#", 1),)))
    pub = await started(sessions, cfg(broker.port, "pub"))
    assert await pub.publish("t/a", "收银台 1".encode(), qos=1, wait_s=T)
    msg = await next_of(sub, Message)
    assert isinstance(msg, Message) and msg.payload.decode() == "收银台 1" and msg.qos == 1


async def test_persistent_session_receives_what_was_queued_while_away(
        broker: Broker, sessions: list[MqttSession]) -> None:
    box = cfg(broker.port, "box-1", subscriptions=(("down/#", 1),), session_expiry_s=3600)
    first = await started(sessions, box)
    await first.stop()
    pub = await started(sessions, cfg(broker.port, "hq"))
    for i in range(5):
        assert await pub.publish(f"down/{i}", f"job-{i}".encode(), wait_s=T)
    # A new process with the same client id: what was queued may arrive before its SUBACK.
    again = await started(sessions, box, subscribed=False)
    got = sorted(m.payload for m in await drain_messages(again, 1.0))
    assert got == [f"job-{i}".encode() for i in range(5)]


async def test_clean_start_loses_what_was_queued(broker: Broker,
                                                 sessions: list[MqttSession]) -> None:
    box = cfg(broker.port, "box-2", subscriptions=(("down/#", 1),), clean_start=True)
    first = await started(sessions, box)
    await first.stop()
    pub = await started(sessions, cfg(broker.port, "hq"))
    assert await pub.publish("down/x", b"lost", wait_s=T)
    again = await started(sessions, box, subscribed=False)
    assert await drain_messages(again, 1.0) == []


async def test_will_on_abort_not_on_clean_stop(broker: Broker,
                                               sessions: list[MqttSession]) -> None:
    mon = await started(sessions, cfg(broker.port, "mon", subscriptions=(("death/#", 1),)))
    clean = await started(sessions, cfg(broker.port, "clean"),
                          Will("death/clean", b"clean died", retain=False))
    await clean.stop()
    crash = await started(sessions, cfg(broker.port, "crash"),
                          Will("death/crash", b"crash died", retain=False))
    crash.abort()
    msg = await next_of(mon, Message)
    assert isinstance(msg, Message) and msg.topic == "death/crash"
    assert [m.topic for m in await drain_messages(mon)] == []


async def test_will_is_asked_for_every_connection(broker: Broker,
                                                  sessions: list[MqttSession]) -> None:
    proxy = CutProxy(broker.port)
    counter = iter(range(1, 100))
    wills: list[int] = []

    def will() -> Will:
        wills.append(next(counter))
        return Will("death/box", str(wills[-1]).encode(), retain=True)

    mon = await started(sessions, cfg(broker.port, "mon2", subscriptions=(("death/#", 1),)))
    box = MqttSession(cfg(proxy.port, "box-3"), will)
    sessions.append(box)
    await box.start()
    await next_of(box, Connected)
    proxy.cut()
    await next_of(box, Disconnected)
    proxy.restore()
    await next_of(box, Connected)
    msg = await next_of(mon, Message)
    assert isinstance(msg, Message) and msg.payload == b"1"  # the first session's own Will
    assert wills[:2] == [1, 2]
    proxy.close()


async def test_manual_ack_redelivers_what_was_not_committed(
        broker: Broker, sessions: list[MqttSession]) -> None:
    box = cfg(broker.port, "box-4", subscriptions=(("down/#", 1),), manual_ack=True)
    s1 = await started(sessions, box)
    pub = await started(sessions, cfg(broker.port, "hq4"))
    assert await pub.publish("down/a", b"a", wait_s=T)
    assert await pub.publish("down/b", b"b", wait_s=T)
    got = [await next_of(s1, Message), await next_of(s1, Message)]
    for m in got:
        assert isinstance(m, Message)
        if m.payload == b"a":
            s1.ack(m)
    # The broker handles one connection's packets in order: once this PUBLISH is acknowledged,
    # the PUBACK written before it has been handled.
    assert await s1.publish("t/fence", b"", qos=1, wait_s=T)
    s1.abort()
    s2 = await started(sessions, box, subscribed=False)
    again = await drain_messages(s2, 1.0)
    assert [m.payload for m in again] == [b"b"]


async def test_publish_fails_fast_when_disconnected_and_times_out_on_a_dead_link(
        broker: Broker, sessions: list[MqttSession]) -> None:
    idle = MqttSession(cfg(broker.port, "idle"))
    assert not await idle.publish("t", b"x", wait_s=T)
    proxy = CutProxy(broker.port)
    s = await started(sessions, cfg(proxy.port, "box-5", keepalive_s=60))
    proxy.blackhole()
    assert not await s.publish("t", b"x", qos=1, wait_s=0.5)
    proxy.close()


async def test_keepalive_notices_a_silently_dead_link_and_reconnects(
        broker: Broker, sessions: list[MqttSession]) -> None:
    proxy = CutProxy(broker.port)
    s = await started(sessions, cfg(proxy.port, "box-6", keepalive_s=1))
    proxy.blackhole()
    ev = await next_of(s, Disconnected)
    assert isinstance(ev, Disconnected)
    proxy.restore()
    ev2 = await next_of(s, Connected)
    assert isinstance(ev2, Connected) and ev2.generation == 2
    assert await s.publish("t", b"after", wait_s=T)
    proxy.close()


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "sec", users={"BOX-A": "pw-a", "BOX-B": "pw-b", "hq": "pw-hq"},
               acl="user hq\ntopic readwrite storelink/#\n\n"
                   "pattern readwrite storelink/v1/box/%u/#\n")
    b.start()
    yield b
    b.stop()


async def test_credentials_and_acl_confine_a_box_to_its_subtree(
        secured: Broker, sessions: list[MqttSession]) -> None:
    port = secured.port
    hq = await started(sessions, cfg(port, "hq", username="hq", password="pw-hq",
                                     subscriptions=(("storelink/v1/box/+/up/#", 1),)))
    a = await started(sessions, cfg(port, "box-a", username="BOX-A", password="pw-a"))
    assert await a.publish("storelink/v1/box/BOX-A/up/events", b"mine", wait_s=T)
    assert not await a.publish("storelink/v1/box/BOX-B/up/events", b"forged", wait_s=T)
    msgs = await drain_messages(hq, 1.0)
    assert [(m.topic, m.payload) for m in msgs] == [("storelink/v1/box/BOX-A/up/events", b"mine")]
    bad = MqttSession(cfg(port, "box-x", username="BOX-A", password="wrong"))
    sessions.append(bad)
    await bad.start()
    ev = await next_of(bad, Disconnected)
    assert isinstance(ev, Disconnected) and "refused" in ev.reason and not bad.connected


async def test_a_session_works_when_its_socket_is_numbered_above_1023(
        broker: Broker, sessions: list[MqttSession]) -> None:
    # select() refuses descriptors >= 1024; a process holding many files must still connect.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.fail(f"the test needs 1200 descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        assert max(held) >= 1024
        sub = await started(sessions, cfg(broker.port, "many-files-sub",
                                          subscriptions=(("t/#", 1),)))
        pub = await started(sessions, cfg(broker.port, "many-files-pub"))
        assert await pub.publish("t/b", "收银台 2".encode(), qos=1, wait_s=T)
        msg = await next_of(sub, Message)
        assert isinstance(msg, Message) and msg.payload.decode() == "收银台 2"
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def test_a_publish_goes_out_at_once_not_on_the_next_tick(
        broker: Broker, sessions: list[MqttSession], monkeypatch: pytest.MonkeyPatch) -> None:
    # With paho's bookkeeping tick longer than the wait, the PUBLISH and its PUBACK can only
    # get through if queueing a packet has the loop write it, not the next tick.
    monkeypatch.setattr(mqtt_session, "MISC_TICK_S", 3 * T)
    sub = await started(sessions, cfg(broker.port, "wake-sub", subscriptions=(("t/#", 1),)))
    pub = await started(sessions, cfg(broker.port, "wake-pub", keepalive_s=60))
    assert await pub.publish("t/c", "取货单 3".encode(), qos=1, wait_s=T)
    msg = await next_of(sub, Message)
    assert isinstance(msg, Message) and msg.payload.decode() == "取货单 3"


async def test_messages_are_read_and_published_on_the_loops_own_thread(
        broker: Broker, sessions: list[MqttSession]) -> None:
    # No network thread: once connected, a session runs no thread of its own, and a message
    # published by one session reaches the other without one.
    sub = await started(sessions, cfg(broker.port, "own-sub", subscriptions=(("t/#", 1),)))
    pub = await started(sessions, cfg(broker.port, "own-pub"))
    def own_threads() -> list[str]:
        return [t.name for t in threading.enumerate() if t.name.endswith(("own-sub", "own-pub"))]

    await eventually(lambda: not own_threads(), 5.0, "the connecting threads to end")
    for i in range(20):
        assert await pub.publish(f"t/{i}", f"拣货单 {i}".encode(), qos=1, wait_s=T)
    got = [await next_of(sub, Message) for _ in range(20)]
    assert [m.payload.decode() for m in got if isinstance(m, Message)] == \
        [f"拣货单 {i}" for i in range(20)]


async def test_a_large_message_is_written_in_full_past_a_full_socket_buffer(
        broker: Broker, sessions: list[MqttSession]) -> None:
    # With a 4 KiB send buffer, 1 MiB cannot be written at once: the rest goes out as the
    # socket drains (the loop watches it for writing only then).
    sub = await started(sessions, cfg(broker.port, "big-sub", subscriptions=(("t/#", 1),)))
    pub = await started(sessions, cfg(broker.port, "big-pub"))
    pub._client.socket().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # type: ignore[union-attr]
    body = "大".encode() * ((1 << 20) // 3)
    assert await pub.publish("t/big", body, qos=1, wait_s=T)
    msg = await next_of(sub, Message)
    assert isinstance(msg, Message) and msg.payload == body


async def test_every_connection_sends_each_packet_at_once(
        broker: Broker, sessions: list[MqttSession]) -> None:
    # Nagle's algorithm would hold a small packet written behind an unacknowledged one (the
    # box's PUBACK after its events, HQ's job after an events ack) until the peer's delayed
    # ACK, up to 40 ms: every socket of the session, reconnects included, sets TCP_NODELAY.
    s = await started(sessions, cfg(broker.port, "nodelay-box", subscriptions=(("t/#", 1),)))
    assert s.no_delay is True
    broker.restart()
    await next_of(s, Disconnected)
    await next_of(s, Connected)
    assert s.no_delay is True
    pub = await started(sessions, cfg(broker.port, "nodelay-hq"))
    assert await pub.publish("t/d", "配送单 4".encode(), qos=1, wait_s=T)
    msg = await next_of(s, Message)
    assert isinstance(msg, Message) and msg.payload.decode() == "配送单 4"


def test_the_brokers_send_each_packet_at_once(broker: Broker) -> None:
    # The broker's side of the same: mosquitto leaves Nagle on unless told (set_tcp_nodelay).
    # The shipped configuration says so, and so does the tests' broker, which started with it.
    shipped = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto-storelink.conf"
    for conf in (shipped, broker.conf):
        lines = [line.split() for line in conf.read_text(encoding="utf-8").splitlines()]
        assert ["set_tcp_nodelay", "true"] in lines, conf
