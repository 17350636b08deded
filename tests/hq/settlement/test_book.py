"""Daily settlement: HQ's per-method arithmetic from journal records, reconciled against the
box's signed day close; kept current from a real store as records arrive."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hq.settlement.book import (
    Difference,
    SettlementBook,
    SettlementError,
    Settler,
    china_day,
    on_day,
    settle,
)
from hq.store.sqlite import SqliteStore
from sync.journal import RecordError
from sync.journal.chain import MemoryChain
from sync.journal.schema import METHODS
from sync.journal.vectors import build
from tests.hq.journals import BOX, BOX_KEY, LOG, batch, ingest_of

BASE = 1_795_914_000_000  # 2026-11-29 09:00 China time
MIN = 60_000


def line(name: str, qty: int, unit_price: int) -> dict[str, Any]:
    """A sale line of `qty` × `unit_price` fen."""
    return {"sku": f"SKU-{unit_price}", "name": name, "qty": qty, "unit_price": unit_price,
            "amount": qty * unit_price}


def sale(order: str, ln: dict[str, Any], *pay: tuple[str, int]) -> dict[str, Any]:
    """A sale of one line paid by (method, fen) pairs."""
    return {"order": order, "lines": [ln], "total": ln["amount"], "till": "T1", "cashier": "C001",
            "payments": [{"method": m, "amount": a} for m, a in pay]}


def scenario() -> MemoryChain:
    """One day at a building-materials shop, closed; then a next-day refund and sale, open."""
    c = MemoryChain(log=LOG, key=BOX_KEY, time=BASE, boot="boot-1",
                    extra={"store": "CQ-JB-001", "name": "重庆江北建材旗舰店"})
    t = BASE
    c.append("sale", sale("XS-1", line("不锈钢合页 4寸", 10, 1000), ("cash", 10000)), t + MIN)
    c.append("sale", sale("XS-2", line("净味全效墙面漆 白色", 1, 25000), ("wechat", 20000),
                          ("alipay", 5000)), t + 2 * MIN)
    c.append("sale", sale("XS-3", line("86型五孔插座 雅白", 4, 2000), ("card", 8000)), t + 3 * MIN)
    c.append("sale", sale("XS-4", line("E0级生态板", 2, 15000), ("member", 10000),
                          ("credit", 20000)), t + 4 * MIN)
    c.append("refund", {"sale_seq": 2, "order": "XS-2", "lines": [line("墙面漆 退半桶", 1, 5000)],
                        "total": 5000, "payments": [{"method": "wechat", "amount": 5000}],
                        "reason": "规格不符"}, t + 5 * MIN)
    c.append("void", {"sale_seq": 3, "total": 8000,
                      "payments": [{"method": "card", "amount": 8000}], "reason": "收银员录错"},
             t + 6 * MIN)
    c.append("payment", {"purpose": "top_up", "method": "cash", "amount": 50000,
                         "customer": "K001", "note": "会员充值"}, t + 7 * MIN)
    c.append("payment", {"purpose": "credit_settlement", "method": "alipay", "amount": 12000,
                         "customer": "K003", "note": "永盛家装 挂账还款"}, t + 8 * MIN)
    c.append("audit", {"event": "drawer.open", "actor": "C001"}, t + 9 * MIN)
    c.day_close("2026-11-29", t + 600 * MIN, till="T1", cashier="C001", cash_counted=59900)
    # 2026-11-30 00:30 China time is still 11-29 in UTC: the open day is China's.
    c.append("refund", {"sale_seq": 1, "order": "XS-1", "lines": [line("不锈钢合页 4寸", 2, 1000)],
                        "total": 2000, "payments": [{"method": "cash", "amount": 2000}],
                        "reason": "顾客退货"}, t + 930 * MIN)
    c.append("sale", sale("XS-5", line("PPR等径弯头", 30, 120), ("wechat", 3600)), t + 931 * MIN)
    return c


def records(c: MemoryChain) -> list[dict[str, Any]]:
    return [e.record() for e in c.entries]


def test_per_method_figures_with_refunds_voids_and_receipts() -> None:
    closed, _ = settle(BOX, records(scenario()))
    assert (closed.day, closed.status, closed.z, closed.from_seq, closed.to_seq) == (
        "2026-11-29", "closed", 1, 1, 9)
    got = {m.method: (m.sales, m.refunds, m.voids, m.receipts, m.net) for m in closed.methods}
    assert got == {"cash": (10000, 0, 0, 50000, 60000), "wechat": (20000, 5000, 0, 0, 15000),
                   "alipay": (5000, 0, 0, 12000, 17000), "card": (8000, 0, 8000, 0, 0),
                   "member": (10000, 0, 0, 0, 10000), "credit": (20000, 0, 0, 0, 20000)}
    assert [m.method for m in closed.methods] == list(METHODS)
    assert (closed.sales, closed.refunds, closed.voids, closed.receipts) == (73000, 5000, 8000,
                                                                             62000)
    assert closed.net == 60000 and closed.absolute == 86000
    assert closed.counts == {"audit": 1, "payment": 2, "refund": 1, "sale": 4, "void": 1}
    assert closed.matched is True and closed.differences == ()
    assert closed.cash_counted == 59900 and closed.cash_over == -100  # 短款 ¥1.00
    assert (closed.till, closed.cashier, closed.close_seq) == ("T1", "C001", 10)
    js = closed.to_json()
    assert js["totals"]["all_methods"] == 122000 == js["totals"]["net"] + js["totals"]["receipts"]
    assert js["cash"] == {"expected": 60000, "counted": 59900, "over": -100}
    assert js["signed_period"]["methods"]["cash"] == 60000


def test_the_open_period_is_reported_under_its_china_day_without_a_verdict() -> None:
    _, open_ = settle(BOX, records(scenario()))
    assert open_.status == "open" and open_.matched is None and open_.z is None
    assert open_.day == "2026-11-30" == china_day(BASE + 930 * MIN)
    assert open_.from_seq == 11 and open_.to_seq == 12
    assert open_.method("cash").refunds == 2000 and open_.method("cash").net == -2000
    assert open_.method("wechat").sales == 3600 and open_.net == 1600
    assert open_.cash_over is None and open_.to_json()["matched"] is None


def test_a_day_close_that_disagrees_is_caught_with_each_difference() -> None:
    recs = records(scenario())
    close = copy.deepcopy(recs[10])
    assert close["type"] == "day_close"
    period = close["body"]["period"]
    period["methods"]["cash"] = 60100        # the box claims ¥1.00 more cash
    period["methods"]["card"] = 300          # and card takings HQ finds none of
    period["net"] += 400
    period["counts"]["sale"] = 5
    del period["methods"]["credit"]          # and forgets the credit sales
    recs[10] = close
    closed = settle(BOX, recs)[0]
    assert closed.matched is False
    assert closed.differences == (
        Difference("period.net", 60000, 60400),
        Difference("period.methods.cash", 60000, 60100),
        Difference("period.methods.card", 0, 300),
        Difference("period.methods.credit", 20000, 0),
        Difference("period.counts.sale", 4, 5))
    diffs = closed.to_json()["differences"]
    assert diffs[1] == {"field": "period.methods.cash", "hq": 60000, "box": 60100, "diff": -100}
    assert diffs[3]["diff"] == 20000


def test_a_day_close_with_a_wrong_range_is_caught() -> None:
    recs = records(scenario())
    recs[10] = copy.deepcopy(recs[10])
    recs[10]["body"]["from_seq"] = 3
    assert settle(BOX, recs)[0].differences == (Difference("from_seq", 1, 3),)


def test_the_test_vectors_settle_and_show_the_cash_over() -> None:
    chain, _ = build()
    closed, open_ = settle("CQ-JB-001-B1", records(chain))
    assert closed.matched is True and closed.day == "2026-11-29"
    assert closed.method("cash").net == 11900 and closed.method("cash").voids == 3600
    assert closed.method("card").receipts == 50000 and closed.method("wechat").refunds == 3600
    assert closed.cash_over == 3600  # counted 155.00 with 119.00 expected: 长款 ¥36.00
    assert open_.day == "2026-11-30" and open_.method("wechat").net == 2500


def test_records_out_of_order_are_refused() -> None:
    recs = records(scenario())
    s = Settler(BOX)
    s.feed(recs[0])
    with pytest.raises(SettlementError, match="record 2 fed where 1 was due"):
        s.feed(recs[2])


def test_no_money_no_open_settlement_and_day_selection() -> None:
    c = MemoryChain(log=LOG, key=BOX_KEY, time=BASE, boot="b")
    c.append("audit", {"event": "user.login", "actor": "C001"}, BASE + 1)
    assert settle(BOX, records(c)) == []
    a = settle("B-A", records(scenario()))
    b = settle("B-B", records(scenario()))
    assert [(s.box, s.day) for s in on_day([*b, *a], "2026-11-29")] == [("B-A", "2026-11-29"),
                                                                        ("B-B", "2026-11-29")]
    assert [(s.box, s.day) for s in on_day([*b, *a], None)] == [
        ("B-A", "2026-11-30"), ("B-B", "2026-11-30"), ("B-A", "2026-11-29"),
        ("B-B", "2026-11-29")]
    assert on_day(a, "2026-12-01") == []


_OP = st.one_of(
    st.tuples(st.just("sale"), st.lists(st.tuples(st.sampled_from(METHODS),
                                                  st.integers(1, 10**7)), min_size=1,
                                        max_size=3)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 10**6)),
    st.tuples(st.just("void"), st.integers(0, 50)),
    st.tuples(st.just("payment"), st.sampled_from([m for m in METHODS if m != "credit"]),
              st.integers(1, 10**7)),
    st.tuples(st.just("close"), st.integers(0, 10**7)))


def _apply(c: MemoryChain, op: tuple[Any, ...], sales: list[tuple[int, dict[str, Any]]],
           t: int) -> None:
    kind = op[0]
    if kind == "sale":
        total = sum(a for _, a in op[1])
        body = sale(f"XS-{t}", line("不锈钢合页", 1, total), *op[1])
        sales.append((c.head.size, body))
        c.append("sale", body, t)
    elif kind in ("refund", "void") and sales:
        seq, s = sales[op[1] % len(sales)]
        pay = s["payments"][0]
        if kind == "void":
            body = {"sale_seq": seq, "total": s["total"], "payments": s["payments"],
                    "reason": "录错"}
        else:
            amount = min(op[2], pay["amount"])
            body = {"sale_seq": seq, "order": s["order"], "lines": [line("退货", 1, amount)],
                    "total": amount, "payments": [{"method": pay["method"], "amount": amount}],
                    "reason": "退货"}
        # Refused when over-refunded, already voided, refunded before the void, or a past day.
        with contextlib.suppress(RecordError):
            c.append(kind, body, t)
    elif kind == "payment":
        c.append("payment", {"purpose": "deposit", "method": op[1], "amount": op[2]}, t)
    elif kind == "close":
        c.day_close(china_day(t), t, cash_counted=op[1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_OP, max_size=25))
def test_hq_agrees_with_every_day_close_the_box_can_sign(ops: list[tuple[Any, ...]]) -> None:
    c = MemoryChain(log=LOG, key=BOX_KEY, time=BASE, boot="b")
    sales: list[tuple[int, dict[str, Any]]] = []
    first = ("sale", [("cash", 10000), ("wechat", 5000), ("credit", 300)])
    for i, op in enumerate([first, *ops]):
        _apply(c, op, sales, BASE + i * 37 * MIN)
    found = settle(BOX, records(c))
    assert all(s.matched for s in found if s.status == "closed")
    for s in found:
        assert sum(m.net for m in s.methods) == s.net + s.receipts
        assert s.absolute == s.sales + s.refunds + s.voids
    methods = c.entries[-1].record()["totals"]["methods"]
    for m in METHODS:  # the periods add up to the perpetual totals
        assert sum(s.method(m).net for s in found) == methods.get(m, 0)


def test_the_book_follows_a_real_store_as_batches_arrive(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hq.db")
    ingest = ingest_of(store, BOX_KEY, BASE + 10**6)
    c = scenario()
    book = SettlementBook(store, chunk=4)
    assert book.box(BOX) == []
    assert ingest.ingest(batch(c, 0, 6)).ack.status == "ok"
    early = book.box(BOX)
    assert [s.status for s in early] == ["open"] and early[0].method("wechat").net == 15000
    assert ingest.ingest(batch(c, 6, len(c.entries))).ack.status == "ok"
    assert book.box(BOX) == settle(BOX, records(c))
    assert book.boxes([BOX, BOX, "CD-WH-003-B1"]) == settle(BOX, records(c))
    fresh = SettlementBook(store)  # another worker on the same file
    assert [json.dumps(s.to_json()) for s in fresh.box(BOX)] == [
        json.dumps(s.to_json()) for s in book.box(BOX)]
    store.close()
