"""Body validation per record type: Chinese data passes, every error names its field."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.schema import BODIES, check_envelope, validate_body, validate_record
from sync.journal.vectors import build, build_workshop, lines, sale

RECORDS = {e.record()["type"]: e.record()
           for e in reversed([*build()[0].entries, *build_workshop().entries])}
GOOD: dict[str, dict[str, Any]] = {t: r["body"] for t, r in RECORDS.items()}
SEQ = 30


def test_the_vectors_hold_a_body_of_every_type() -> None:
    assert set(GOOD) == set(BODIES)


@pytest.mark.parametrize(("body", "field"), [
    ({"task": "T", "of": 3, "parts": [{"part": 1, "qty": 5}, {"part": 2, "qty": 5}]}, "body.of"),
    ({"task": "T", "of": 2, "parts": [{"part": 2, "qty": 5}, {"part": 1, "qty": 5}]},
     "body.parts[0].part"),
    ({"task": "T", "of": 5, "replaces": 4, "parts": [{"part": 4, "qty": 5},
                                                     {"part": 5, "qty": 5}]}, "body.replaces"),
    ({"task": "T", "of": 1, "parts": [{"part": 1, "qty": 0}]}, "body.parts[0].qty"),
])
def test_split_parts_are_numbered_in_order(body: dict[str, Any], field: str) -> None:
    with pytest.raises(RecordError) as e:
        validate_body("split", body, 9)
    assert e.value.field == field


@pytest.mark.parametrize("type_", sorted(BODIES))
def test_every_type_has_a_valid_example(type_: str) -> None:
    validate_body(type_, GOOD[type_], RECORDS[type_]["seq"])


def _error(type_: str, body: Any, seq: int | None = None) -> RecordError:
    with pytest.raises(RecordError) as e:
        validate_body(type_, body, RECORDS[type_]["seq"] if seq is None else seq)
    return e.value


def _edit(type_: str, path: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(GOOD[type_])
    *parents, last = path.split(".")
    node: Any = body
    for p in parents:
        node = node[int(p)] if p.isdigit() else node[p]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return body


@pytest.mark.parametrize(("type_", "path", "value", "field", "reason"), [
    ("sale", "lines.1.amount", 10801, "body.lines[1].amount", "qty × unit_price"),
    ("sale", "total", 59201, "body.total", "lines add up to 59200"),
    ("sale", "payments.0.amount", 59000, "body.payments", "add up to 59000"),
    ("sale", "payments.0.method", "bitcoin", "body.payments[0].method", "must be one of"),
    ("sale", "lines.0.qty", 0, "body.lines[0].qty", "must be 1-"),
    ("sale", "lines.0.qty", 1.5, "body.lines[0].qty", "integer"),
    ("sale", "lines.0.qty", True, "body.lines[0].qty", "integer"),
    ("sale", "lines.0.name", "合页\n4寸", "body.lines[0].name", "control"),
    ("sale", "order", "XS 41", "body.order", "spaces"),
    ("sale", "order", KeyError, "body.order", "is required"),
    ("sale", "colour", "红", "body.colour", "unknown field"),
    ("sale", "lines", [], "body.lines", "1-500"),
    ("refund", "sale_seq", 6, "body.sale_seq", "earlier record (< 6)"),
    ("refund", "reason", "", "body.reason", "1-200"),
    ("void", "payments", [], "body.payments", "add up to 0"),
    ("payment", "method", "credit", "body.method", "must be one of"),
    ("day_close", "day", "2026-02-30", "body.day", "calendar day"),
    ("day_close", "to_seq", 3, "body.to_seq", "must be 14"),
    ("day_close", "period.counts.sale", 0, "body.period.counts.sale", "must be 1-"),
    ("day_close", "period.methods.bitcoin", 5, "body.period.methods.bitcoin", "unknown key"),
    ("handover", "defects.0.qty", -1, "body.defects[0].qty", "must be 1-"),
    ("approval", "via", "phone", "body.via", "must be one of"),
    ("audit", "event", "User.Login", "body.event", "lowercase"),
    ("clock_set", "reason", "because", "body.reason", "must be one of"),
    ("key_rotate", "new_pubkey", "AB" * 32, "body.new_pubkey", "lowercase hex"),
    ("cosign", "cosigner", "hq witness", "body.cosigner", "note key name"),
    ("cosign", "size", 17, "body.size", "must not exceed 16"),
])
def test_errors_name_the_field(type_: str, path: str, value: Any, field: str,
                               reason: str) -> None:
    e = _error(type_, _edit(type_, path, value))
    assert e.field == field
    assert reason in e.reason
    assert e.code == "body"


def test_a_discount_is_part_of_the_line_arithmetic() -> None:
    items = lines(("JC-1001", 10))
    items[0].update(discount=500, amount=8000)
    validate_body("sale", sale("XS-1", items, ("cash", 8000)), SEQ)
    items[0].update(discount=9000, amount=-500)
    assert _error("sale", sale("XS-1", items, ("cash", 0))).field in (
        "body.lines[0].amount", "body.lines[0].discount")


def test_genesis_only_at_seq_zero_and_unknown_types() -> None:
    assert _error("genesis", GOOD["genesis"], 5).field == "type"
    assert "unknown record type" in _error("refund_all", {}, SEQ).reason
    assert _error("sale", ["not", "an", "object"]).field == "body"


def test_the_envelope_names_its_fields() -> None:
    record = build()[0].entries[1].record()
    validate_record(record)
    for key, value, field in [("seq", -1, "seq"), ("log", "XYZ", "log"), ("v", 2, "v"),
                              ("boot", "Boot ID", "boot"), ("type", "gift", "type"),
                              ("extra", 1, "extra"), ("totals", [], "totals")]:
        bad = dict(record, **{key: value})
        with pytest.raises(RecordError) as e:
            check_envelope(bad)
        assert e.value.field == field


@given(st.dictionaries(st.text(max_size=6), st.none() | st.integers() | st.text(max_size=6),
                       max_size=5), st.sampled_from(sorted(BODIES)))
def test_random_bodies_raise_only_record_error(body: dict[str, Any], type_: str) -> None:
    with contextlib.suppress(RecordError):
        validate_body(type_, body, SEQ)
