"""The chain rules in the writer and the incremental verifier: codes, seqs, and no partial state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.canonical import canonical
from sync.journal.chain import MemoryChain, cosign_body
from sync.journal.checkpoint import Checkpoint, cosign, note_key_hash, sign_checkpoint
from sync.journal.record import Entry, public_bytes, sign_record
from sync.journal.vectors import (
    ATTACKER,
    BASE,
    BOX1,
    BOX2,
    HQ,
    HQ_NAME,
    LOG,
    build,
    lines,
    sale,
)
from sync.journal.verify import Failure, Precheck, Verifier

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"
COSIGNERS = {(HQ_NAME, note_key_hash(HQ_NAME, 4, public_bytes(HQ)).hex()): HQ.public_key()}
GOOD = build()[0].entries


def verify(entries: list[Entry], **kw: Any) -> Failure | None:
    v = Verifier(**kw)
    for e in entries:
        if v.feed(e.raw, e.sig, e.hash) is not None:
            break
    return v.finish()


def chain() -> MemoryChain:
    c = MemoryChain(log=LOG, key=BOX1, time=BASE, boot="b1", cosigners=COSIGNERS)
    c.append("sale", sale("XS-1", lines(("JC-1001", 10)), ("cash", 8500)), BASE + 1)
    c.append("approval", {"action": "refund", "approver": "M001", "via": "pin",
                          "subject": "退货"}, BASE + 2)
    return c


def refund(total: int, sale_seq: int = 1, **extra: Any) -> dict[str, Any]:
    qty = total // 850
    return {"sale_seq": sale_seq, "order": "XS-1", "lines": lines(("JC-1001", qty)),
            "total": total, "payments": [{"method": "cash", "amount": total}], "reason": "退货",
            **extra}


def void(sale_seq: int = 1) -> dict[str, Any]:
    return {"sale_seq": sale_seq, "total": 8500, "payments": [{"method": "cash", "amount": 8500}],
            "reason": "录错"}


def refused(c: MemoryChain, type_: str, body: dict[str, Any], time: int, code: str) -> None:
    before = (c.head, len(c.entries))
    with pytest.raises(RecordError) as e:
        c.append(type_, body, time)
    assert e.value.code == code
    assert (c.head, len(c.entries)) == before


def test_the_writer_refuses_what_the_verifier_would_reject() -> None:
    c = chain()
    refused(c, "refund", refund(8500, approval_seq=1), BASE + 3, "reference")  # not an approval
    refused(c, "refund", refund(8500, sale_seq=2), BASE + 3, "reference")  # not a sale
    c.append("refund", refund(1700, approval_seq=2), BASE + 3)
    refused(c, "refund", refund(7650), BASE + 4, "reference")  # more than is left
    refused(c, "void", void(), BASE + 4, "reference")  # partly refunded
    refused(c, "audit", {"event": "user.login", "actor": "C001"}, BASE, "time")
    refused(c, "clock_set", {"from": BASE + 4, "to": BASE, "reason": "manual"}, BASE + 5, "time")
    c.append("sale", sale("XS-2", lines(("JC-1001", 10)), ("cash", 8500)), BASE + 6)
    c.day_close("2026-11-29", BASE + 7)
    refused(c, "void", void(4), BASE + 8, "reference")  # its day is closed
    c.append("sale", sale("XS-3", lines(("JC-1001", 10)), ("cash", 8500)), BASE + 9)
    c.append("void", void(6), BASE + 10)
    refused(c, "void", void(6), BASE + 11, "reference")  # voided already
    refused(c, "refund", refund(850, sale_seq=6), BASE + 11, "reference")
    assert verify(c.entries, cosigners=COSIGNERS) is None


def test_cosign_records_must_match_the_chain_and_hq() -> None:
    c = chain()
    good = cosign(c.checkpoint(), HQ_NAME, HQ, BASE // 1000)
    c.append("audit", {"event": "user.logout", "actor": "C001"}, BASE + 3)
    forged = cosign(sign_checkpoint(Checkpoint(LOG, 3, bytes(32)), BOX1), HQ_NAME, HQ, 1)
    refused(c, "cosign", cosign_body(forged, HQ_NAME), BASE + 4, "cosign")
    stranger = cosign(c.checkpoint(), HQ_NAME, ATTACKER, BASE // 1000)
    refused(c, "cosign", cosign_body(stranger, HQ_NAME), BASE + 4, "cosign")
    later = cosign(c.checkpoint(), HQ_NAME, HQ, BASE // 1000)
    c.append("cosign", cosign_body(later, HQ_NAME), BASE + 4)
    refused(c, "cosign", cosign_body(good, HQ_NAME), BASE + 5, "cosign")  # smaller size
    assert verify(c.entries, cosigners=COSIGNERS) is None


def test_the_old_key_cannot_sign_after_a_rotation() -> None:
    c = chain()
    c.rotate(BOX2, "年度密钥轮换", BASE + 3)
    c.signer = BOX1
    with pytest.raises(RecordError) as e:
        c.append("audit", {"event": "user.login", "actor": "C001"}, BASE + 4)
    assert e.value.code == "key"


def test_incremental_feeding_keeps_state_and_stays_failed() -> None:
    v = Verifier(cosigners=COSIGNERS)
    for i, e in enumerate(GOOD):
        assert v.feed(e.raw, e.sig, e.hash) is None
        assert v.size == i + 1
    assert v.head is not None and v.head.key == "963fea9cafe72653"
    assert set(v.keys) == {"a8d1fdaddd9470e2", "963fea9cafe72653"}
    bad = Entry(GOOD[3].raw, GOOD[3].hash, GOOD[3].sig)
    f = v.feed(bad.raw, bad.sig, bad.hash)
    assert f == Failure(20, "seq", "expected seq 20, found 3: duplicated or out of order")
    assert v.feed(GOOD[0].raw, GOOD[0].sig) is f
    assert v.finish() is f


@pytest.mark.parametrize(("trusted", "want"), [
    ([BOX1], None), ([BOX2], None), ([ATTACKER], (0, "key")), ([ATTACKER, BOX1], None),
])
def test_trusted_keys_anchor_the_chain(trusted: list[Any], want: tuple[int, str] | None) -> None:
    f = verify(GOOD, trusted=[public_bytes(k) for k in trusted])
    assert (None if f is None else (f.seq, f.code)) == want


def test_an_expected_log_and_an_empty_journal() -> None:
    f = verify(GOOD, log="0" * 32)
    assert f is not None and (f.seq, f.code) == (0, "log")
    f = verify([])
    assert f is not None and (f.seq, f.code) == (0, "genesis")


def test_stored_bytes_must_be_canonical() -> None:
    raw = GOOD[2].raw.replace(b'"seq":2,', b'"seq": 2,')
    f = verify([*GOOD[:2], Entry(raw, GOOD[2].hash, GOOD[2].sig)])
    assert f is not None and (f.seq, f.code) == (2, "canonical")


def test_json_true_is_not_the_integer_1() -> None:
    r = GOOD[19].record()
    r["totals"]["counts"]["genesis"] = True
    f = verify([*GOOD[:19], sign_record(r, canonical(r), BOX2)])
    assert f is not None and (f.seq, f.code) == (19, "totals")


def test_a_worker_verdict_counts_only_for_the_current_key() -> None:
    v = Verifier()
    for e in GOOD[:5]:
        assert v.feed(e.raw, e.sig, e.hash, Precheck(True, e.hash, True, b"x" * 32)) is None
    forged = Entry(GOOD[5].raw, GOOD[5].hash, ATTACKER.sign(b"anything"))
    pre = Precheck(True, forged.hash, True, public_bytes(ATTACKER))
    f = v.feed(forged.raw, forged.sig, forged.hash, pre)
    assert f is not None and (f.seq, f.code) == (5, "signature")


def test_checkpoint_checks() -> None:
    v = Verifier()
    for e in GOOD:
        v.feed(e.raw, e.sig, e.hash)
    c = build()[0]
    assert v.check_checkpoint(c.checkpoint()) is None
    with pytest.raises(RecordError):
        v.check_checkpoint(sign_checkpoint(Checkpoint("1" * 32, 3, bytes(32)), BOX2))
    stranger = sign_checkpoint(Checkpoint(LOG, 20, GOOD[19].hash), ATTACKER)
    with pytest.raises(RecordError):
        v.check_checkpoint(stranger)
    only_hq = cosign(stranger, HQ_NAME, HQ, 5)
    assert v.check_checkpoint(only_hq, {HQ_NAME: HQ.public_key()}) is None


def test_lines_and_rows_give_the_same_verdicts() -> None:
    manifest = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
    framing = {"crlf_lines", "spaced_line", "blank_line_at_end", "empty"}  # exports only (§8)
    for case in manifest["cases"]:
        if case["name"] in framing:
            continue
        text = (VECTORS / case["file"]).read_text(encoding="utf-8").splitlines()
        by_line, by_row = Verifier(), Verifier()
        for line in text:
            by_line.feed_line(line)
            obj = json.loads(line)
            raw = json.dumps(obj["record"], sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode()
            by_row.feed(raw, bytes.fromhex(obj["sig"]), bytes.fromhex(obj["hash"]))
        assert by_line.finish() == by_row.finish(), case["name"]


LINES = (VECTORS / "journal.jsonl").read_bytes().splitlines()


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(LINES) - 1), st.data())
def test_any_single_byte_change_is_detected(index: int, data: st.DataObject) -> None:
    line = bytearray(LINES[index])
    pos = data.draw(st.integers(0, len(line) - 1))
    value = data.draw(st.integers(0, 255).filter(lambda b: b != line[pos]))
    line[pos] = value
    v = Verifier()
    for i, text in enumerate(LINES):
        if v.feed_line(bytes(line) if i == index else text) is not None:
            break
    f = v.finish()
    assert f is not None
    assert f.seq <= index
