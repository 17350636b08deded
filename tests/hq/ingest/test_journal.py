"""HQ as witness: incremental verification, countersigned acks, refusals with evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hq.config import BoxEntry
from hq.ingest.journal import JournalIngest
from hq.store.sqlite import SqliteStore
from sync.journal.chain import MemoryChain, cosign_body
from sync.journal.checkpoint import cosignature_time, parse_note
from sync.journal.record import public_bytes
from sync.protocol.messages import JournalBatch
from tests.hq.journals import BOX, BOX_KEY, HQ_KEY, LOG, T0, batch, chain, obj

BOXES = {BOX: BoxEntry(BOX, (public_bytes(BOX_KEY),))}


@pytest.fixture
def ingest(tmp_path: Path) -> JournalIngest:
    return JournalIngest(SqliteStore(tmp_path / "hq.db"), BOXES, HQ_KEY, "storelink-hq",
                         clock=lambda: T0 + 10**6)


def stored_lines(ing: JournalIngest, box: str = BOX) -> list[str]:
    return [e.export_line() for e in ing.store.journal_entries(box, 0, 10**9)]


def test_batches_are_verified_stored_and_countersigned(ingest: JournalIngest) -> None:
    c = chain(30)
    out = ingest.ingest(batch(c, 0, 20))
    assert out.ack.status == "ok" and out.ack.size == 20 and out.alarm is None
    assert out.ack.head == c.entries[19].hash.hex()
    assert out.ack.cosignature is not None
    note = parse_note(str(out.ack.cosignature["note"]))
    assert note.checkpoint.size == 20 and note.checkpoint.head == c.entries[19].hash
    assert cosignature_time(note, "storelink-hq", HQ_KEY.public_key()) == (T0 + 10**6) // 1000
    out = ingest.ingest(batch(c, 20, 31))
    assert out.ack.status == "ok" and out.ack.size == 31
    assert stored_lines(ingest) == [e.export_line() for e in c.entries]


def test_repeats_are_acked_again_and_stored_once(ingest: JournalIngest) -> None:
    c = chain(10)
    first = ingest.ingest(batch(c, 0, 11))
    again = ingest.ingest(batch(c, 0, 11))
    overlap = ingest.ingest(batch(c, 5, 11))
    assert again.ack.status == overlap.ack.status == "ok"
    assert again.ack.size == 11 and again.ack.cosignature == first.ack.cosignature
    assert len(stored_lines(ingest)) == 11


def test_a_batch_beyond_what_hq_holds_asks_for_a_resend(ingest: JournalIngest) -> None:
    c = chain(20)
    ingest.ingest(batch(c, 0, 5))
    out = ingest.ingest(batch(c, 10, 15))
    assert out.ack.status == "resend" and out.ack.size == 5 and out.alarm is None


def test_a_rewritten_record_below_the_countersigned_size_is_refused_with_both_versions(
        ingest: JournalIngest) -> None:
    c = chain(12)
    ingest.ingest(batch(c, 0, 13))
    forged = chain(12, variant=100, from_seq=6)  # same key, history rewritten from seq 6
    out = ingest.ingest(batch(forged, 0, 13))
    assert out.ack.status == "refused" and out.ack.size == 13
    assert out.alarm is not None and out.alarm.kind == "fork" and out.alarm.seq == 6
    ev = out.alarm.evidence
    assert json.loads(ev["held"]) == obj(c.entries[6])
    assert json.loads(ev["presented"]) == obj(forged.entries[6])
    assert parse_note(ev["cosignature"]["note"]).checkpoint.size == 13
    assert stored_lines(ingest) == [e.export_line() for e in c.entries]
    alarms = ingest.store.alarms(BOX)
    assert [(a["kind"], a["seq"]) for a in alarms] == [("fork", 6)]
    ingest.ingest(batch(forged, 0, 13))  # the same evidence is not raised twice
    assert len(ingest.store.alarms(BOX)) == 1


def test_a_fork_at_the_head_is_caught_by_the_chain_link(ingest: JournalIngest) -> None:
    c = chain(12)
    ingest.ingest(batch(c, 0, 10))
    forged = chain(12, variant=7, from_seq=9)
    out = ingest.ingest(batch(forged, 10, 13))
    assert out.ack.status == "refused" and out.alarm is not None
    assert (out.alarm.kind, out.alarm.seq) == ("fork", 10)
    assert json.loads(out.alarm.evidence["held_previous"]) == obj(c.entries[9])
    assert ingest.ingest(batch(c, 10, 13)).ack.status == "ok"  # the true history goes on


def test_a_gap_inside_a_batch_is_refused(ingest: JournalIngest) -> None:
    c = chain(10)
    ingest.ingest(batch(c, 0, 5))
    b = batch(c, 5, 10)
    holey = replace(b, records=b.records[:2] + b.records[3:])
    out = ingest.ingest(holey)
    assert out.ack.status == "refused" and out.alarm is not None
    assert (out.alarm.kind, out.alarm.seq) == ("gap", 7)
    assert len(stored_lines(ingest)) == 5


def test_a_bad_signature_keeps_the_good_prefix_and_refuses_the_rest(
        ingest: JournalIngest) -> None:
    c = chain(10)
    objs = [obj(e) for e in c.entries]
    objs[7]["sig"] = "00" * 64
    out = ingest.ingest(JournalBatch(BOX, LOG, 0, tuple(objs)))
    assert out.ack.status == "refused" and out.ack.size == 7 and out.ack.cosignature
    assert out.alarm is not None and (out.alarm.kind, out.alarm.seq) == ("invalid", 7)
    assert parse_note(str(out.ack.cosignature["note"])).checkpoint.size == 7
    assert ingest.ingest(batch(c, 7, 11)).ack.size == 11


def test_unregistered_keys_and_unknown_boxes_are_refused(ingest: JournalIngest) -> None:
    stranger = chain(3, key=Ed25519PrivateKey.generate())
    out = ingest.ingest(batch(stranger, 0, 4))
    assert out.ack.status == "refused" and out.alarm is not None and out.alarm.kind == "key"
    assert ingest.store.journal_head(BOX) is None
    out = ingest.ingest(batch(chain(2), 0, 3, box="NOT-REGISTERED"))
    assert out.ack.status == "refused" and out.alarm is not None
    assert out.alarm.kind == "unknown_box"


def test_another_log_for_the_same_box_is_a_fork(ingest: JournalIngest) -> None:
    ingest.ingest(batch(chain(3), 0, 4))
    other = chain(3, log="0" * 32)
    out = ingest.ingest(batch(other, 0, 4))
    assert out.ack.status == "refused" and out.alarm is not None and out.alarm.kind == "fork"


def test_hq_restart_resumes_verification_from_its_store(tmp_path: Path) -> None:
    c = chain(40)
    first = JournalIngest(SqliteStore(tmp_path / "hq.db"), BOXES, HQ_KEY, "storelink-hq")
    first.ingest(batch(c, 0, 25))
    first.store.close()
    second = JournalIngest(SqliteStore(tmp_path / "hq.db"), BOXES, HQ_KEY, "storelink-hq")
    assert second.ingest(batch(c, 25, 41)).ack.size == 41
    forged = chain(40, variant=3, from_seq=30)
    assert second.ingest(batch(forged, 30, 41)).ack.status == "refused"


def test_cosign_records_must_carry_hqs_real_cosignature(ingest: JournalIngest) -> None:
    c = MemoryChain(log=LOG, key=BOX_KEY, time=T0, boot="b", software="storelink/0.1.0")
    for i in range(1, 5):
        c.append("audit", {"event": "x.y", "actor": "C001", "detail": str(i)}, T0 + i)
    out = ingest.ingest(batch(c, 0, 5))
    note = parse_note(str(out.ack.cosignature["note"]))  # type: ignore[index]
    c.append("cosign", cosign_body(note, "storelink-hq"), T0 + 10)
    assert ingest.ingest(batch(c, 5, 6)).ack.status == "ok"
    # A cosign record whose signature HQ never made.
    fake = {**cosign_body(note, "storelink-hq"), "sig": "ab" * 64}
    c.append("cosign", fake, T0 + 11)
    out = ingest.ingest(batch(c, 6, 7))
    assert out.ack.status == "refused" and out.alarm is not None
    assert out.alarm.kind == "invalid" and out.ack.size == 6
