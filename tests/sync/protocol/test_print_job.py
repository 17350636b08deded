"""The print job envelope both ends apply (sync.protocol.print_job): rules, field names, and
never anything but a ProtocolError for any JSON value."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol import ProtocolError
from sync.protocol.print_job import (
    MAX_COPIES,
    TEMPLATES,
    canonical_json,
    parse_dispatched,
    parse_job,
)

JOB: dict[str, Any] = {"id": "ord-20261129-0042", "printer": "前台", "template": "price_label",
                       "data": {"name": "不锈钢合页 4寸", "price": 850}, "copies": 3,
                       "expires_at": "2026-11-29T18:00:00+08:00"}


def test_a_valid_job_is_read_with_its_hash() -> None:
    pj = parse_job(JOB)
    assert (pj.id, pj.printer, pj.kind, pj.template, pj.copies) == (
        "ord-20261129-0042", "前台", "template", "price_label", 3)
    assert pj.expires_at_ms == 1_795_946_400_000 and pj.label == "price_label"
    assert pj.body_hash == hashlib.sha256(canonical_json(JOB)).hexdigest()
    raw = parse_job({"id": "r", "printer": "p", "raw": "G0A="})
    assert raw.kind == "raw" and raw.raw == b"\x1b@" and raw.label == "raw"
    assert parse_job({"id": "d", "printer": "p", "document": {}}).kind == "document"


@pytest.mark.parametrize(("change", "field", "reason"), [
    ({"copies": MAX_COPIES + 79}, "copies", "must be 1-20"),
    ({"copies": 2.0}, "copies", "must be an integer, got a number"),
    ({"id": "送货单"}, "id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - "
                           "(the sender's id, kept across retries)"),
    ({"id": "ord-1\n"}, "id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - "
                            "(the sender's id, kept across retries)"),
    ({"printer": ""}, "printer", "must be a printer id of 1-64 characters"),
    ({"template": "价签"}, "template",
     "unknown template '价签' (known: " + ", ".join(TEMPLATES) + ")"),
    ({"data": None}, "data", "must be an object, got null"),
    ({"document": {}}, "template", "exactly one of template, document or raw is required"),
    ({"expires_at": "2026-11-29 18:00"}, "expires_at", "needs a UTC offset (e.g. +08:00 or Z)"),
    ({"备注": "加急"}, "备注", "unknown field"),
])
def test_each_rule_names_its_field(change: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(ProtocolError) as e:
        parse_job({**JOB, **change})
    assert (e.value.field, e.value.reason) == (field, reason)
    with pytest.raises(ProtocolError) as e:
        parse_dispatched({**JOB, **change})
    assert (e.value.field, e.value.reason) == ("job." + field, reason)


def test_a_job_that_is_not_an_object_is_named_job() -> None:
    bad: object
    for bad in (None, [], "job", 1):
        with pytest.raises(ProtocolError) as e:
            parse_dispatched(bad)
        assert e.value.field == "job"


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
KEYS = st.sampled_from(["id", "printer", "template", "data", "document", "raw", "copies",
                        "expires_at", "x"])


@given(st.dictionaries(KEYS, JSON, max_size=8) | JSON)
def test_any_json_gives_a_job_or_a_protocol_error(value: object) -> None:
    try:
        pj = parse_job(value)
    except ProtocolError as e:
        assert isinstance(e.field, str) and e.reason
    else:
        assert isinstance(value, dict) and pj.id == value["id"]
