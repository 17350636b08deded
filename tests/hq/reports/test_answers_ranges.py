"""Every report over any range equals the day rows of a straight recomputation summed over that
range: the signed parts (a month read whole less the days outside it) count each day once."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hq.reports.answers import Scope, clerks, methods, sales, top
from hq.reports.feed import ReportFeeder
from hq.reports.ranges import Range
from hq.store.sqlite import SqliteStore
from tests.hq.reports.shop import COSTS, HOUR, T0, Box, recompute
from tests.hq.reports.test_aggregates import SKUS, STORES, catalog

Rows = dict[tuple[str, str, str, str], tuple[int, int, int, int]]
FIRST = date(2026, 11, 29)
SPAN = 400
"""Days the generated sales cover from FIRST (across month ends, a year's end and a whole year,
so ranges read year, month, week, day and month-to-date rows, added and subtracted)."""


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SqliteStore, Rows]]:
    """HQ's store holding three boxes' sales, refunds and voids over SPAN days, folded, and the
    straight recomputation of its aggregate rows."""
    rnd = random.Random(16)
    boxes = []
    for bid, code in STORES.items():
        b = Box(bid, code)
        while b.time < T0 + SPAN * 24 * HOUR - 30 * HOUR:
            seq = b.sale([(rnd.choice(SKUS), rnd.randint(1, 4)) for _ in range(rnd.randint(1, 2))],
                         salesperson=rnd.choice([None, "王芳", "李强"]),
                         # Members of one box: who holds a first contact is then independent
                         # of the order the boxes are folded in.
                         customer=rnd.choice([None, f"M1@{bid}", f"M2@{bid}", f"M3@{bid}"]),
                         method=rnd.choice(["cash", "wechat", "alipay"]),
                         hours=rnd.randint(6, 30))
            if rnd.random() < 0.1:
                b.void(seq, hours=rnd.randint(1, 30))
            elif rnd.random() < 0.1:
                b.refund(seq, 0, 1, hours=rnd.randint(1, 30))
        boxes.append(b)
    path = Path(tmp_path_factory.mktemp("ranges")) / "hq.db"
    store = SqliteStore(path)
    catalog(store)
    for b in boxes:
        b.store_into(store)
    ReportFeeder(store, STORES, lambda: 0).catch_up()
    yield store, recompute(boxes, COSTS)
    store.close()


def _days(rows: Rows, cube: str, r: Range, key: str) -> dict[str, tuple[int, ...]]:
    """The `cube` day rows in `r` summed per store, key or store/key; all-zero sums left out."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (c, period, store, k), v in rows.items():
        if c == f"{cube}.d" and r.start.isoformat() <= period <= r.end.isoformat():
            name = {"store": store, "key": k, "both": f"{store}/{k}"}[key]
            acc[name] = [a + b for a, b in zip(acc[name], v, strict=True)]
    return {k: tuple(v) for k, v in acc.items() if any(v)}


def _figs(rows: list[dict[str, object]]) -> dict[str, tuple[object, ...]]:
    return {str(x["key"]): (x["qty"], x["amount"], x["cost"], x["orders"]) for x in rows}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(start=st.integers(0, SPAN - 1), length=st.integers(1, 366))
def test_any_range_answers_what_its_days_add_up_to(shop: tuple[SqliteStore, Rows], start: int,
                                                   length: int) -> None:
    store, rows = shop
    a = FIRST + timedelta(days=start)
    r = Range(a, min(a + timedelta(days=length - 1), FIRST + timedelta(days=SPAN - 1)))
    every = Scope(None, {}, 0.3)
    assert _figs(sales(store, every, r, "store")["rows"]) == _days(rows, "store", r, "store")
    assert _figs(sales(store, every, r, "clerk")["rows"]) == _days(rows, "clerk", r, "both")
    assert _figs(sales(store, every, r, "product")["rows"]) == _days(rows, "product", r, "key")
    want_top = sorted(_days(rows, "product", r, "key").items(), key=lambda kv: (-kv[1][1], kv[0]))
    assert [(x["key"], x["amount"]) for x in top(store, every, r, 3)["rows"]] == [
        (k, v[1]) for k, v in want_top[:3]]
    assert {x["method"]: (x["amount"], x["payments"]) for x in methods(store, every, r)["rows"]
            } == {k: (v[1], v[3]) for k, v in _days(rows, "method", r, "key").items()}
    credit = _days(rows, "credit", r, "both")
    assert {x["key"]: x["contact_sales"] for x in clerks(store, every, r)["rows"]
            if x["contact_sales"]} == {k: v[1] for k, v in credit.items() if v[1]}
