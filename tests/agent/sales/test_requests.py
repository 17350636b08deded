"""The pure request parsers: journal rule errors renamed to request fields, and properties —
any JSON gives either a body the journal accepts or InvalidInput, never anything else."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.sales.requests import (
    HANDOVER_RENAMES,
    SALE_FIELDS,
    handover_body,
    input_error,
    refund_body,
    request_object,
    sale_body,
    sold_left,
)
from agent.sales.zreport import document, summarize
from drivers import InvalidInput
from drivers.escpos.document import parse_document
from drivers.label.flowcard import encode_flow_card
from sync.journal import RecordError
from sync.journal.schema import validate_body
from tests.agent.sales.conftest import sale

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**14, 10**14) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12)
LINE = st.fixed_dictionaries(
    {"sku": st.sampled_from(["JC-1001", "JC-1003", "", "J C"]),
     "name": st.sampled_from(["不锈钢合页 4寸", "", "螺丝"]),
     "qty": st.integers(-1, 50) | st.floats(0, 2),
     "unit_price": st.integers(-1, 5000)},
    optional={"discount": st.integers(-1, 5000), "amount": st.integers(-1, 250000),
              "unit": JSON})
REQUEST = st.fixed_dictionaries(
    {"lines": st.lists(LINE, max_size=3) | JSON},
    optional={"order": JSON, "clerk": st.sampled_from(["C001", "C 1", ""]) | JSON,
              "total": st.integers(-1, 10**6) | JSON,
              "payments": st.lists(st.fixed_dictionaries(
                  {"method": st.sampled_from(["cash", "wechat", "x"]),
                   "amount": st.integers(-1, 10**6)}), max_size=2) | JSON,
              "member": JSON, "note": JSON})


@settings(max_examples=300, deadline=None)
@given(REQUEST)
def test_a_sale_request_gives_a_valid_body_or_invalid_input(raw: dict[str, Any]) -> None:
    try:
        body = sale_body(raw, "XS-20261129-0001", 5)
    except InvalidInput as e:
        assert e.field and e.field.split(".")[0].split("[")[0] in SALE_FIELDS | {"body"}
        return
    validate_body("sale", body, 5)
    assert sum(p["amount"] for p in body["payments"]) == body["total"]


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_is_refused_cleanly(raw: object) -> None:
    for parse in (lambda: sale_body(request_object(raw, SALE_FIELDS), "XS-1", 5),
                  lambda: handover_body(raw if isinstance(raw, dict) else {}, "W001", 5)):
        with contextlib.suppress(InvalidInput):
            parse()


def test_journal_errors_are_renamed_to_request_fields() -> None:
    cases = [("body.cashier", "clerk"), ("body.customer", "member"),
             ("body.lines[2].amount", "lines[2].amount"), ("body", "body"), ("type", "type")]
    for field, want in cases:
        assert input_error(RecordError(field, "x")).field == want
    for field, want in [("body.defects[0].reason", "defect_reason"),
                        ("body.defects[0].qty", "defective"), ("body.qty", "good"),
                        ("body.from_worker", "worker"), ("body.step", "step")]:
        assert input_error(RecordError(field, "x"), HANDOVER_RENAMES).field == want


def test_refund_payments_default_to_the_sales_only_method() -> None:
    sold = sale_body(sale(), "XS", 1)
    two = [{"sku": "JC-1003", "name": "十字沉头自攻螺丝", "qty": 2, "unit_price": 1800}]
    body = refund_body({"sale_seq": 1, "reason": "规格不符", "lines": two}, sold, 3)
    assert body["payments"] == [{"method": "wechat", "amount": 3600}]
    assert body["order"] == "XS-20261129-0041"
    mixed = {**sold, "payments": [{"method": "cash", "amount": 100},
                                  {"method": "card", "amount": 59100}]}
    with pytest.raises(InvalidInput) as e:
        refund_body({"sale_seq": 1, "reason": "x", "lines": two}, mixed, 3)
    assert e.value.field == "payments"
    assert sold_left(sold, [body]) == {"JC-1001": 40, "JC-1003": 4, "JC-4002": 120}


def test_the_handover_takes_everything_from_the_card() -> None:
    card = encode_flow_card("SC-20261129-002", 1, 12, 200)
    h = handover_body({"flow_card": card, "step": 10, "good": 200}, "W004", 9)
    assert h.body == {"task": "SC-20261129-002", "batch": "SC-20261129-002#1/12", "step": 10,
                      "from_worker": "W004", "to_worker": "-", "qty": 200}


def test_the_z_report_document_is_a_valid_document_on_both_paper_widths() -> None:
    close = {"seq": 9, "time": 1795950000000, "type": "day_close",
             "totals": {"net": 1000, "absolute": 1000, "methods": {"member": 1000},
                        "counts": {}},
             "body": {"day": "2026-11-29", "z": 4, "from_seq": 1, "to_seq": 8,
                      "period": {"net": 1000, "absolute": 1000, "methods": {"member": 1000},
                                 "counts": {"sale": 1, "payment": 1}}}}
    recs = [{"seq": 3, "type": "sale", "body": {"total": 1000, "payments": [
        {"method": "member", "amount": 1000}]}},
            {"seq": 4, "type": "payment", "body": {"method": "card", "amount": 500,
                                                   "purpose": "top_up"}}]
    z = summarize(close, recs, "storelink.journal/x\n9\nAAAA\n", "SLJ1:X")
    assert [(m.method, m.net) for m in z.methods] == [("card", 500), ("member", 1000)]
    assert [(c.clerk, c.sales, c.net) for c in z.clerks] == [("-", 1, 1000)]
    for columns in (32, 48):
        doc = parse_document(document(z, store="重庆江北建材旗舰店", columns=columns))
        assert doc.blocks
