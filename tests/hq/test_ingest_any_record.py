"""HQ's journal intake answers any record shape with an ack (and an alarm when it refuses),
never an exception: in process for every shape, and through real MQTT to a real HQ."""

from __future__ import annotations

import tempfile
from pathlib import Path

import aiohttp
from hypothesis import given, settings

from hq.config import BoxEntry
from hq.ingest.journal import JournalIngest
from hq.store.sqlite import SqliteStore
from sync.journal.record import public_bytes
from sync.protocol.messages import JournalAck, JournalBatch
from sync.protocol.topics import Down, Up
from tests.e2e.procs import Proc
from tests.hq.journals import BOX, BOX_KEY, HQ_KEY, LOG, T0
from tests.hq.test_service import FakeBox, box, broker, get, hq, http
from tests.sync.journal.mutations import OBJECTS, Mutant, mutants

__all__ = ["box", "broker", "hq", "http"]
BOXES = {BOX: BoxEntry(BOX, (public_bytes(BOX_KEY),))}


@settings(max_examples=150, deadline=None)
@given(mutants())
def test_ingest_answers_any_record_shape(m: Mutant) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "hq.db")
        ingest = JournalIngest(store, BOXES, HQ_KEY, "storelink-hq", clock=lambda: T0 + 10**6)
        wire = JournalBatch(BOX, LOG, 0, tuple(m.objects)).to_json()
        out = ingest.ingest(JournalBatch.from_json(wire))
        assert out.ack.status in ("ok", "refused")
        if out.ack.status == "refused":
            assert out.alarm is not None and out.ack.size <= m.seq
        else:
            assert out.ack.size == m.seq + 1
        store.close()


def _forged(member: str, value: object) -> JournalBatch:
    rec = {**OBJECTS[3]["record"], member: value}
    return JournalBatch(BOX, LOG, 0, (*OBJECTS[:3], {**OBJECTS[3], "record": rec}))


async def test_a_forged_record_over_mqtt_is_refused_with_an_alarm_and_hq_keeps_running(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    await box.send(Up.JOURNAL, _forged("type", {"kind": "sale"}).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("refused", 3)
    await box.send(Up.JOURNAL, _forged("body", ["合"]).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("refused", 3)
    alarms = (await get(http, f"{hq.url}/v1/alarms?box={BOX}"))["alarms"]
    assert [(a["kind"], a["seq"], a["evidence"]["code"]) for a in alarms] == [
        ("invalid", 3, "malformed")] * len(alarms) and alarms
    # HQ is still there and takes the genuine records.
    await box.send(Up.JOURNAL, JournalBatch(BOX, LOG, 3, tuple(OBJECTS[3:8])).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("ok", 8)
    assert "Traceback" not in hq.log_text()
    view = await get(http, f"{hq.url}/v1/boxes/{BOX}")
    assert view["hq_journal"]["size"] == 8
