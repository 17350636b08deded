"""The report aggregates equal a straight recomputation from the records, whatever the batching
and the order in which boxes' records reach them; refunds and voids subtract; the first-contact
credit follows the worked example of docs/hq.md §Reports."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hq.catalog.products import parse_products
from hq.reports.answers import Scope, clerks, sales
from hq.reports.feed import ReportFeeder
from hq.reports.ranges import Range
from hq.store.sqlite import SqliteStore
from sync.journal import RecordError
from tests.hq.reports.shop import COSTS, NAMES, PRICES, Box, aggregates, recompute

STORES = {"CQ-JB-001-B1": "CQ-JB-001", "CQ-JB-001-B2": "CQ-JB-001", "CD-WH-002-B1": "CD-WH-002"}
SKUS = sorted(COSTS)


def catalog(store: SqliteStore) -> None:
    store.catalog_put(parse_products([
        {"sku": s, "name": NAMES[s], "price": PRICES[s], "cost": COSTS[s]} for s in SKUS]), 0)


op = st.one_of(
    st.tuples(st.just("sale"), st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 5)),
                                        min_size=1, max_size=3),
              st.sampled_from(["C001", "C002"]), st.sampled_from([None, "王芳", "李强"]),
              st.sampled_from([None, "M1", "M2"]), st.sampled_from(["cash", "wechat", "alipay"]),
              st.integers(0, 30)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 30)),
    st.tuples(st.just("void"), st.integers(0, 50), st.integers(1, 30)))


def build(box_ops: list[list[tuple[object, ...]]]) -> list[Box]:
    """Boxes whose journals follow the ops (refunds and voids of a sale the rules allow)."""
    boxes = []
    for (bid, store), ops in zip(STORES.items(), box_ops, strict=False):
        b = Box(bid, store)
        for o in ops:
            if o[0] == "sale":
                _, lines, cashier, sp, member, method, hours = o
                b.sale(list(lines), cashier=str(cashier), salesperson=sp,  # type: ignore
                       customer=f"{member}@{bid}" if member else None, method=str(method),
                       hours=int(hours))  # type: ignore[call-overload]
                continue
            open_sales = [s for s in b.sales if s not in b.voided]
            if not open_sales:
                continue
            seq = open_sales[int(o[1]) % len(open_sales)]  # type: ignore[call-overload]
            if o[0] == "refund":
                with contextlib.suppress(RecordError):  # refunds beyond the sale's total
                    b.refund(seq, 0, 1, hours=int(o[2]))  # type: ignore[call-overload]
            elif seq not in b.refunded:
                b.void(seq, hours=int(o[2]))  # type: ignore[call-overload]
        boxes.append(b)
    return boxes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(box_ops=st.lists(st.lists(op, max_size=14), min_size=1, max_size=3),
       schedule=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 6), st.booleans()),
                         max_size=40),
       chunk=st.integers(1, 7))
def test_any_batching_and_order_of_boxes_gives_the_recomputed_aggregates(
        box_ops: list[list[tuple[object, ...]]], schedule: list[tuple[int, int, bool]],
        chunk: int) -> None:
    boxes = build(box_ops)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "hq.db")
        try:
            catalog(store)
            feeder = ReportFeeder(store, STORES, lambda: 0, chunk=chunk)
            arrived = {b.id: 0 for b in boxes}
            for which, n, fold_now in schedule:
                b = boxes[which % len(boxes)]
                arrived[b.id] += n
                b.store_into(store, arrived[b.id])
                if fold_now:
                    feeder.catch_up()
            for b in boxes:
                b.store_into(store)
            feeder.catch_up()
            assert store.report_lag() == []
            assert aggregates(store) == recompute(boxes, COSTS)
        finally:
            store.close()


def test_refunds_and_voids_subtract(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hq.db")
    catalog(store)
    b = Box("CQ-JB-001-B1", "CQ-JB-001")
    kept = b.sale([("JC-1001", 4), ("JC-1003", 1)], salesperson="王芳")
    gone = b.sale([("JC-2001", 1)], salesperson="王芳")
    b.refund(kept, 0, 1)
    b.void(gone)
    b.store_into(store)
    ReportFeeder(store, STORES, lambda: 0).catch_up()
    day = Range(date(2026, 11, 29), date(2026, 11, 29))
    out = sales(store, Scope(None, {}, 0.3), day, "store")
    # 4 × 8.50 + 18.00 sold, one hinge (8.50) back, the board sale undone.
    assert out["total"] == {"key": "", "qty": 4, "amount": 3 * 850 + 1800,
                            "cost": 3 * 520 + 950, "margin": 3 * 330 + 850, "orders": 1}
    products = {r["key"]: r for r in sales(store, Scope(None, {}, 0.3), day, "product")["rows"]}
    # The voided sale nets to nothing: its product has no row.
    assert "JC-2001" not in products and products["JC-1001"]["qty"] == 3
    assert aggregates(store) == recompute([b], COSTS)
    store.close()


def test_first_contact_credit_worked_example(tmp_path: Path) -> None:
    """docs/hq.md §Reports, worked example: 会员 M-8801 first buys from 王芳 at 解放碑店, then
    from 李强 at 观音桥店 and at the self-service till; a later refund takes credit back."""
    store = SqliteStore(tmp_path / "hq.db")
    catalog(store)
    a = Box("CQ-JB-001-B1", "CQ-JB-001")
    c = Box("CD-WH-002-B1", "CD-WH-002")
    a.sale([("JC-1002", 1)], salesperson="王芳", customer="M-8801")           # ¥36 first sale
    later = c.sale([("JC-2001", 1)], salesperson="李强", customer="M-8801")   # ¥168
    c.sale([("JC-1003", 2)], cashier="C009", customer="M-8801")               # ¥36
    c.refund(later, 0, 1)                                                     # −¥168
    c.sale([("JC-2001", 2)], salesperson="李强", customer="M-8801")           # ¥336
    feeder = ReportFeeder(store, STORES, lambda: 0)
    for b in (a, c):
        b.store_into(store)
        feeder.catch_up()
    r = Range(date(2026, 11, 29), date(2026, 11, 30))
    rows = {x["key"]: x for x in clerks(store, Scope(None, {}, 0.30), r)["rows"]}
    wang = rows["CQ-JB-001/王芳"]
    assert wang["amount"] == 3600
    assert wang["contact_sales"] == 16800 + 3600 - 16800 + 33600 == 37200
    assert wang["contact_credit"] == 11160 and wang["performance"] == 3600 + 11160
    assert rows["CD-WH-002/李强"]["amount"] == 16800 - 16800 + 33600
    assert rows["CD-WH-002/李强"]["contact_credit"] == 0
    assert store.report_contact("M-8801") == {
        "member": "M-8801", "clerk": "王芳", "store": "CQ-JB-001",
        "first_sale": {"box": "CQ-JB-001-B1", "seq": 1}, "assigned_by": None, "changed_ms": 0}
    # HQ assigns the member to 李强: sales aggregated from then on credit him.
    store.report_assign("M-8801", "李强", "CD-WH-002", "finance1", 5)
    c.sale([("JC-1001", 10)], cashier="C009", customer="M-8801")             # ¥85
    c.store_into(store)
    feeder.catch_up()
    rows = {x["key"]: x for x in clerks(store, Scope(None, {}, 0.30), r)["rows"]}
    assert rows["CD-WH-002/李强"]["contact_sales"] == 8500
    assert rows["CQ-JB-001/王芳"]["contact_sales"] == 37200
    store.close()
