"""Orders, customers and phone print requests are validated with errors naming the field; the
documents built from them are what the box's templates print (Chinese throughout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hq.orders import OrderError
from hq.orders.documents import (
    parse_phone_job,
    parse_reason,
    print_job,
    printed_time,
    template_data,
    typed_order,
)
from hq.orders.model import catalog_index, join_catalog, parse_customers, parse_order, sees_order
from hq.store.orders import OrderRow
from sync.protocol.print_job import parse_dispatched

DATA = Path(__file__).resolve().parents[3] / "examples" / "data"
NOW = 1_796_000_500_000


def line(**over: Any) -> dict[str, Any]:
    return {"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 40, "unit": "片",
            "unit_price": 850, "amount": 34000, "spec": "304 / 2.5mm", "location": "A-01-03",
            **over}


def order(**over: Any) -> dict[str, Any]:
    return {"order_no": "XS-20261129-0041", "customer": "K002", "salesperson": "S101",
            "store": "CQ-JB-001", "route": "江北-观音桥线", "lines": [line(), line(sku="JC-1003")],
            **over}


def refused(fn: Any, *args: Any) -> tuple[str, str]:
    with pytest.raises(OrderError) as e:
        fn(*args)
    return e.value.field, e.value.reason


def test_a_chinese_order_is_kept_as_sent() -> None:
    row = parse_order(order(), NOW, ["CQ-JB-001"])
    assert (row.order_no, row.customer, row.salesperson, row.store) == (
        "XS-20261129-0041", "K002", "S101", "CQ-JB-001")
    assert row.body["lines"][0]["name"] == "不锈钢合页 4寸" and row.body["route"] == "江北-观音桥线"
    assert row.body_hash == parse_order(order(), NOW + 5, ["CQ-JB-001"]).body_hash


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"lines": [line(), line(), line(qty=0)]}, "lines[2].qty", "must be 1-1000000"),
    ({"lines": [line(), line(qty="四十")]}, "lines[1].qty", "integer"),
    ({"lines": [line(amount=100)]}, "lines[0].amount", "qty × unit_price = 34000"),
    ({"lines": [line(name="")]}, "lines[0].name", "must be 1-100 characters"),
    ({"lines": [line(colour="红")]}, "lines[0].colour", "unknown"),
    ({"lines": []}, "lines", "must have 1-500 items"),
    ({"customer": "永盛五金店"}, "customer", "A-Z a-z 0-9"),
    ({"order_no": "销售单1"}, "order_no", "A-Z a-z 0-9"),
    ({"store": "XX-999"}, "store", "no store 'XX-999'"),
    ({"route": "线" * 41}, "route", "must be 1-40 characters"),
])
def test_bad_fields_are_named_by_dotted_path(change: dict[str, Any], field: str,
                                             words: str) -> None:
    got_field, reason = refused(parse_order, order(**change), NOW, ["CQ-JB-001"])
    assert got_field == field and words in reason, (got_field, reason)


def test_errors_inside_an_import_file_carry_its_position() -> None:
    body = order(lines=[line(), line(unit_price=-1)])
    assert refused(parse_order, body, NOW, None, "orders[3]")[0] == "orders[3].lines[1].unit_price"


@given(st.lists(st.tuples(st.integers(1, 10_000), st.integers(0, 10**6), st.booleans()),
                min_size=1, max_size=8))
def test_an_amount_is_accepted_exactly_when_it_is_qty_times_price(
        lines: list[tuple[int, int, bool]]) -> None:
    body = order(lines=[line(qty=q, unit_price=p, amount=q * p + (0 if ok else 1))
                        for q, p, ok in lines])
    bad = [i for i, (_, _, ok) in enumerate(lines) if not ok]
    if not bad:
        assert parse_order(body, NOW).order_no == "XS-20261129-0041"
    else:
        assert refused(parse_order, body, NOW)[0] == f"lines[{bad[0]}].amount"


def test_same_name_customers_are_distinct_by_id_and_ids_are_unique() -> None:
    customers = json.loads((DATA / "customers.json").read_text(encoding="utf-8"))
    got = parse_customers({"customers": customers})
    assert [c["name"][:2] for c in got] == ["永盛", "永盛", "永盛", "川味"]
    assert len({c["id"] for c in got}) == 4
    twice = {"customers": [customers[1], {**customers[2], "id": "K002"}]}
    assert refused(parse_customers, twice) == ("customers[1].id", "customer K002 appears twice")
    assert refused(parse_customers, {"customers": [{"id": "K1"}]})[0] == "customers[0].name"


def test_the_erp_files_join_the_catalog_names_and_locations() -> None:
    catalog = catalog_index(json.loads((DATA / "catalog.json").read_text(encoding="utf-8")))
    raw = json.loads((DATA / "orders.json").read_text(encoding="utf-8"))[0]
    joined = join_catalog(raw, catalog, "orders[0]")
    row = parse_order(joined, NOW, prefix="orders[0]")
    first = row.body["lines"][0]
    assert (first["name"], first["unit"], first["location"]) == ("不锈钢合页 4寸", "片", "A-01-03")
    missing = {**raw, "lines": [{"sku": "NO-SUCH", "qty": 1, "unit_price": 1, "amount": 1}]}
    assert refused(join_catalog, missing, catalog, "orders[2]")[0] == "orders[2].lines[0].sku"


def row_of(salesperson: str, store: str | None) -> OrderRow:
    return OrderRow("XS-1", "K002", salesperson, store, {}, "h", 1)


def test_who_sees_which_order() -> None:
    mine, theirs = row_of("S101", "CQ-JB-001"), row_of("S102", "CQ-JB-001")
    assert sees_order("S101", frozenset({"CQ-JB-001"}), mine)
    assert not sees_order("S101", frozenset({"CQ-JB-001"}), theirs)
    assert not sees_order("S101", frozenset({"CD-WH-003"}), mine)
    assert sees_order("S101", frozenset(), row_of("S101", None))
    assert not sees_order(None, frozenset({"CQ-JB-001"}), row_of("S101", None))
    assert sees_order(None, frozenset({"CQ-JB-001"}), theirs)
    assert sees_order(None, None, theirs)


@pytest.mark.parametrize(("body", "field"), [
    ({"box": "B1", "printer": "front", "document": "拣货单", "order_no": "XS-1"}, "document"),
    ({"box": "B1", "printer": "front", "document": "picking_list"}, "order_no"),
    ({"box": "B1", "printer": "front", "document": "picking_list", "order_no": "XS-1",
      "lines": [{"sku": "A1", "name": "合页", "qty": 1, "unit_price": 1}]}, "order_no"),
    ({"box": "B1", "printer": "front", "document": "picking_list",
      "lines": [{"sku": "A1", "name": "合页", "qty": 1, "unit_price": 1},
                {"sku": "A2", "name": "螺丝", "qty": -3, "unit_price": 1}]}, "lines[1].qty"),
    ({"box": "B1", "printer": "front", "document": "sales_slip",
      "lines": [{"sku": "A1", "name": "合页", "qty": 1, "unit_price": 1}]}, "customer"),
    ({"box": "B1", "printer": "", "document": "sales_slip", "order_no": "XS-1"}, "printer"),
    ([], "body"),
])
def test_phone_requests_name_the_bad_field(body: object, field: str) -> None:
    assert refused(parse_phone_job, body)[0] == field


def test_a_reprint_needs_a_reason() -> None:
    assert parse_reason({"reason": " 客户丢失，补打一张 "}) == "客户丢失，补打一张"
    for body in ({}, {"reason": ""}, {"reason": "  "}, {"reason": "补"}, {"reason": 3}):
        assert refused(parse_reason, body)[0] == "reason"


def test_documents_are_valid_jobs_with_the_customer_by_id_and_china_time() -> None:
    body = parse_order(order(), NOW).body
    sp = {"id": "S101", "name": "张伟"}
    customer = {"id": "K002", "name": "永盛五金店", "phone": "13900139002"}
    pick = template_data("picking_list", body, customer, sp, "重庆江北仓", NOW)
    assert pick["orders"][0]["customer"] == {"id": "K002", "name": "永盛五金店",
                                             "phone": "13900139002"}
    assert pick["orders"][0]["lines"][0]["location"] == "A-01-03"
    assert pick["warehouse"] == "重庆江北仓" and pick["time"].endswith("+08:00")
    slip = template_data("sales_slip", body, customer, sp, "重庆江北仓", NOW)
    assert slip["total"] == 68000 and slip["delivery_address"] == "自提"
    for doc, data in (("picking_list", pick), ("sales_slip", slip)):
        assert parse_dispatched(print_job("m-1", "front", doc, data)).template == doc
    assert printed_time(0) == "1970-01-01T08:00:00+08:00"


def test_typed_lines_become_an_order_of_a_walk_in_customer() -> None:
    req = parse_phone_job({"box": "B1", "printer": "front", "document": "picking_list",
                           "lines": [{"sku": "A1", "name": "十字螺丝", "qty": 3,
                                      "unit_price": 150}]})
    assert req.lines
    typed = typed_order(req.lines, None, "S101", "SJ-1")
    assert typed["customer"] == "-" and typed["lines"][0]["amount"] == 450
    assert parse_order({**typed, "customer": "K1", "lines": [
        {**typed["lines"][0], "unit": "盒"}]}, NOW).order_no == "SJ-1"
