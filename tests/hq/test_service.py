"""A real HQ process on a real mosquitto, talked to by a box made of the protocol codecs:
countersigned journal acks, refusals with evidence, liveness, cloud print and commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sync.journal.checkpoint import cosignature_time, parse_note
from sync.journal.record import public_bytes
from sync.mqtt_session import Connected, Message, MqttSession, SessionConfig, Will
from sync.protocol.commands import SignedCommand
from sync.protocol.messages import (
    Birth,
    Death,
    EventsAck,
    EventsBatch,
    HqState,
    IntakeEvent,
    JobEvent,
    JournalAck,
    JournalPosition,
    PrintDispatch,
)
from sync.protocol.topics import Down, Up, box_down_filter, hq_state, parse_topic, up
from tests.e2e.broker import Broker, broker
from tests.e2e.cutproxy import CutProxy
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, HQ_KEY, batch, chain, hq_toml

__all__ = ["broker"]
T = 30.0


class FakeBox:
    """A box speaking the protocol by hand (persistent session on its down/ subtree)."""

    def __init__(self, port: int, box: str = BOX, keepalive: int = 5,
                 will: Will | None = None) -> None:
        self.box = box
        self.session = MqttSession(
            SessionConfig("127.0.0.1", port, f"storelink-box-{box}", keepalive_s=keepalive,
                          reconnect_min_s=0.05, reconnect_max_s=0.5,
                          subscriptions=((box_down_filter(box), 1),)),
            (lambda: will) if will else None)
        self.inbox: dict[Down, asyncio.Queue[bytes]] = {d: asyncio.Queue() for d in Down}
        self._pump: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> FakeBox:
        await self.session.start()
        self._pump = asyncio.create_task(self._run())
        await asyncio.wait_for(self.connected.wait(), T)
        await asyncio.sleep(0.2)  # SUBACK
        return self

    async def _run(self) -> None:
        while True:
            ev = await self.session.events.get()
            if isinstance(ev, Connected):
                self.connected.set()
            elif isinstance(ev, Message):
                leaf = parse_topic(ev.topic).leaf
                assert isinstance(leaf, Down)
                self.inbox[leaf].put_nowait(ev.payload)

    async def next(self, leaf: Down, wait_s: float = T) -> bytes:
        return await asyncio.wait_for(self.inbox[leaf].get(), wait_s)

    async def send(self, leaf: Up, payload: bytes, retain: bool = False) -> None:
        assert await self.session.publish(up(self.box, leaf), payload, 1, retain, wait_s=T)

    async def stop(self) -> None:
        if self._pump:
            self._pump.cancel()
        await self.session.stop(wait_s=2)


@pytest.fixture
def hq(tmp_path: Path, broker: Broker) -> Iterator[Proc]:
    p = hq_process(hq_toml(tmp_path, broker.port), tmp_path / "hq.log").start()
    yield p
    p.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def box(broker: Broker) -> AsyncIterator[FakeBox]:
    b = await FakeBox(broker.port).start()
    yield b
    await b.stop()


async def get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def get_maybe(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as r:
        return await r.json() if r.status == 200 else {}


async def until(fn: Any, wait_s: float = T) -> Any:
    """Poll `fn` (async, returning a truthy value when done) with a generous deadline."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        v = await fn()
        if v:
            return v
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


async def test_journal_upload_gets_a_countersigned_ack_and_hq_keeps_the_copy(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    c = chain(50)
    await box.send(Up.JOURNAL, batch(c, 0, 30).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("ok", 30)
    assert ack.cosignature is not None
    note = parse_note(str(ack.cosignature["note"]))
    assert cosignature_time(note, "storelink-hq", HQ_KEY.public_key()) is not None
    await box.send(Up.JOURNAL, batch(c, 30, 51).to_json())
    assert JournalAck.from_json(await box.next(Down.JOURNAL_ACK)).size == 51
    async with http.get(f"{hq.url}/v1/boxes/{BOX}/journal") as r:
        assert await r.text() == "".join(e.export_line() for e in c.entries)
    view = await get(http, f"{hq.url}/v1/boxes/{BOX}")
    assert view["hq_journal"]["size"] == 51


async def test_a_tampered_journal_is_refused_and_the_alarm_carries_both_versions(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    c = chain(20)
    await box.send(Up.JOURNAL, batch(c, 0, 21).to_json())
    assert JournalAck.from_json(await box.next(Down.JOURNAL_ACK)).size == 21
    forged = chain(20, variant=50, from_seq=4)
    await box.send(Up.JOURNAL, batch(forged, 0, 21).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert ack.status == "refused" and ack.size == 21
    alarms = (await get(http, f"{hq.url}/v1/alarms?box={BOX}"))["alarms"]
    assert [(a["kind"], a["seq"]) for a in alarms] == [("fork", 4)]
    ev = alarms[0]["evidence"]
    assert json.loads(ev["held"])["hash"] == c.entries[4].hash.hex()
    assert json.loads(ev["presented"])["hash"] == forged.entries[4].hash.hex()


def birth(n: int) -> bytes:
    return Birth(BOX, n, 0, "0.1.0", "CQ-JB-001", (), JournalPosition(0, 0), 30,
                 "重庆江北建材旗舰店").to_json()


async def test_liveness_ignores_a_late_will_and_survives_an_hq_restart(
        tmp_path: Path, broker: Broker, hq: Proc, box: FakeBox,
        http: aiohttp.ClientSession) -> None:
    async def online() -> bool:
        v = await get_maybe(http, f"{hq.url}/v1/boxes/{BOX}")
        return bool(v.get("online")) and v["bdseq"] == 11

    await box.send(Up.BIRTH, birth(10), retain=True)
    await box.send(Up.BIRTH, birth(11), retain=True)
    await box.send(Up.DEATH, Death(BOX, 10).to_json(), retain=True)  # session 10's late Will
    await until(online)
    await asyncio.sleep(0.5)
    assert await online()
    boxes = (await get(http, f"{hq.url}/v1/boxes"))["boxes"]
    assert [b["name"] for b in boxes] == ["重庆江北建材旗舰店"]
    hq.stop()
    (tmp_path / "hq.db").unlink()  # a new HQ learns liveness from the retained messages
    hq.start()
    await until(online)
    await box.send(Up.DEATH, Death(BOX, 11, "shutdown").to_json(), retain=True)

    async def offline() -> bool:
        v = await get(http, f"{hq.url}/v1/boxes/{BOX}")
        return not v["online"] and v["offline_reason"] == "shutdown"

    await until(offline)


async def test_a_box_whose_link_dies_is_offline_within_the_keepalive_window(
        broker: Broker, hq: Proc, http: aiohttp.ClientSession) -> None:
    proxy = CutProxy(broker.port)
    b = await FakeBox(proxy.port, keepalive=2,
                      will=Will(up(BOX, Up.DEATH), Death(BOX, 21).to_json())).start()
    await b.send(Up.BIRTH, birth(21), retain=True)

    async def state() -> Any:
        return await get(http, f"{hq.url}/v1/boxes/{BOX}")

    await until(lambda: _is(state, True))
    proxy.blackhole()  # silence: only keep-alive can tell
    await until(lambda: _is(state, False), wait_s=20)
    proxy.close()
    await b.stop()


async def _is(state: Any, online: bool) -> bool:
    v = await state()
    return bool(v["online"] is online)


async def test_hq_publishes_its_own_retained_state(broker: Broker, hq: Proc) -> None:
    def monitor(name: str) -> MqttSession:
        return MqttSession(SessionConfig("127.0.0.1", broker.port, name, clean_start=True,
                                         subscriptions=((hq_state("hq-1"), 1),)))

    async def first_state(name: str) -> Message:
        mon = monitor(name)
        await mon.start()
        while True:
            ev = await asyncio.wait_for(_next_msg(mon), T)
            if HqState.from_json(ev.payload).online or name == "after":
                await mon.stop()
                return ev

    assert (await first_state("a")).payload  # HQ is up and has said so
    late = await first_state("b")  # a subscriber arriving later gets it retained
    assert late.retain and HqState.from_json(late.payload).online
    hq.stop()
    gone = await first_state("after")
    assert gone.retain and not HqState.from_json(gone.payload).online


async def _next_msg(s: MqttSession) -> Message:
    while True:
        ev = await s.events.get()
        if isinstance(ev, Message):
            return ev


JOB = {"id": "ord-20261129-0042-slip", "printer": "front",
       "document": {"blocks": [{"type": "text", "text": "会员日 满100减20"}]}}


async def test_cloud_print_dispatch_once_and_state_history_from_the_box(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    body = {"box": BOX, "printer": "front", "job": JOB}
    async with http.post(f"{hq.url}/v1/print-jobs", json=body) as r:
        assert r.status == 201
    d = PrintDispatch.from_json(await box.next(Down.PRINT))
    assert d.job["id"] == JOB["id"] and d.job["document"] == JOB["document"]
    async with http.post(f"{hq.url}/v1/print-jobs", json=body) as r:
        assert r.status == 200  # the same job again: not sent again
    async with http.post(f"{hq.url}/v1/print-jobs",
                         json={**body, "job": {**JOB, "copies": 2}}) as r:
        assert r.status == 409 and (await r.json())["error"]["field"] == "job.id"
    with pytest.raises(TimeoutError):
        await box.next(Down.PRINT, wait_s=1.0)
    jid = str(JOB["id"])
    events = EventsBatch(BOX, "s" * 22, (IntakeEvent(1, jid, "accepted", 1),
                                         JobEvent(2, jid, "front", "queued", 1, 2),
                                         JobEvent(3, jid, "front", "printing", 2, 3),
                                         JobEvent(4, jid, "front", "printed", 3, 4)))
    await box.send(Up.EVENTS, events.to_json())
    assert EventsAck.from_json(await box.next(Down.EVENTS_ACK)).upto == 4
    await box.send(Up.EVENTS, events.to_json())  # a QoS 1 duplicate
    assert EventsAck.from_json(await box.next(Down.EVENTS_ACK)).upto == 4
    view = await get(http, f"{hq.url}/v1/print-jobs/{jid}")
    assert view["state"] == "printed" and view["version"] == 3
    assert [h["state"] for h in view["history"]] == [
        "submitted", "dispatched", "accepted", "queued", "printing", "printed"]


async def test_jobs_for_an_offline_box_wait_in_its_session_or_expire(
        broker: Broker, hq: Proc, http: aiohttp.ClientSession) -> None:
    b = await FakeBox(broker.port).start()
    await b.stop()  # offline, its session kept by the broker
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    jobs = [{**JOB, "id": "keep-1"},
            {**JOB, "id": "stale-1", "expires_at": "2000-01-01T00:00:00+08:00"},
            {**JOB, "id": "soon-1", "expires_at": soon}]
    for job in jobs:
        async with http.post(f"{hq.url}/v1/print-jobs", json={"box": BOX, "job": job}) as r:
            assert r.status == 201
    assert (await get(http, f"{hq.url}/v1/print-jobs/stale-1"))["state"] == "expired"

    async def soon_expired() -> bool:
        return bool((await get(http, f"{hq.url}/v1/print-jobs/soon-1"))["state"] == "expired")

    await until(soon_expired)
    await asyncio.sleep(1.0)  # the broker's expiry counts whole seconds
    b = await FakeBox(broker.port).start()
    got = PrintDispatch.from_json(await b.next(Down.PRINT))
    assert got.job["id"] == "keep-1"
    with pytest.raises(TimeoutError):
        await b.next(Down.PRINT, wait_s=1.0)
    await b.stop()


async def test_commands_are_signed_with_hqs_pinned_key(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{hq.url}/v1/boxes/{BOX}/commands",
                         json={"name": "open_drawer", "args": {"printer": "front"}}) as r:
        assert r.status == 202
        nonce = (await r.json())["nonce"]
    signed = SignedCommand.from_json(await box.next(Down.COMMAND))
    assert signed.verify(HQ_KEY.public_key()) and signed.command.nonce == nonce
    assert signed.command.args == {"printer": "front", "pin": 2}
    async with http.post(f"{hq.url}/v1/boxes/{BOX}/commands", json={"name": "format_disk"}) as r:
        assert r.status == 400 and (await r.json())["error"]["field"] == "name"
    assert public_bytes(HQ_KEY)  # the pinned key is the one in the box's config
