"""Exactly once on both backends: workers racing to fold the same boxes add every record once;
and the catalog round-trips Chinese names and costs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from hq.catalog.products import parse_products
from hq.reports.feed import ReportFeeder
from hq.store import HqStore
from hq.store.postgres import PostgresStore
from hq.store.sqlite import SqliteStore
from tests.hq.reports.shop import COSTS, NAMES, PRICES, Box, aggregates, recompute

STORES = {"CQ-JB-001-B1": "CQ-JB-001", "CQ-JB-001-B2": "CQ-JB-001", "CD-WH-002-B1": "CD-WH-002"}


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest) -> Iterator[Callable[[], HqStore]]:
    """Opens another connection to one fresh store each call."""
    opened: list[HqStore] = []
    if request.param == "sqlite":
        path = request.getfixturevalue("tmp_path") / "hq.db"

        def again() -> HqStore:
            opened.append(SqliteStore(path))
            return opened[-1]
    else:
        url = request.getfixturevalue("pg_url")

        def again() -> HqStore:
            opened.append(PostgresStore(url))
            return opened[-1]
    yield again
    for s in opened:
        s.close()


def shops() -> list[Box]:
    boxes = [Box(b, s) for b, s in STORES.items()]
    for i in range(120):
        b = boxes[i % 3]
        seq = b.sale([("JC-1001", 1 + i % 4), ("JC-2001", 1)], salesperson=f"S{i % 5}",
                     customer=f"M{i % 7}@{b.id}", method=("cash", "wechat")[i % 2])
        if i % 10 == 3:
            b.refund(seq, 0, 1)
        elif i % 10 == 7:
            b.void(seq)
    return boxes


def test_racing_workers_fold_every_record_exactly_once(opener: Callable[[], HqStore]) -> None:
    main = opener()
    main.catalog_put(parse_products([{"sku": s, "name": NAMES[s], "price": PRICES[s],
                                      "cost": COSTS[s]} for s in COSTS]), 0)
    boxes = shops()
    for b in boxes:
        b.store_into(main)
    workers = [ReportFeeder(opener(), STORES, lambda: 0, chunk=c) for c in (7, 11, 13, 5)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(f: ReportFeeder) -> None:
        try:
            start.wait()
            while f.store.report_lag():
                f.catch_up()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert errors == []
    assert main.report_lag() == []
    assert aggregates(main) == recompute(boxes, COSTS)


def test_the_catalog_round_trips_and_searches_chinese(opener: Callable[[], HqStore]) -> None:
    s = opener()
    products = parse_products([
        {"sku": "JC-1001", "name": "不锈钢合页 4寸", "price": 850, "cost": 520,
         "barcode": "6901234500011", "category": "五金/合页"},
        {"sku": "JC-1002", "name": "静音抽屉滑轨 三节", "price": 3600, "cost": 2150}])
    assert s.catalog_put(products, 1) == 2
    assert [p.sku for p in s.catalog_search("合页", 10)] == ["JC-1001"]
    assert [p.sku for p in s.catalog_search("jc-100", 10)] in (["JC-1001", "JC-1002"], [])
    assert [p.sku for p in s.catalog_search("JC-100", 10)] == ["JC-1001", "JC-1002"]
    assert [p.sku for p in s.catalog_search("500011", 10)] == ["JC-1001"]
    assert s.catalog_search("50%", 10) == []
    assert s.catalog_costs(["JC-1001", "NOPE"]) == {"JC-1001": 520}
    s.catalog_put(parse_products([{"sku": "JC-1001", "name": "不锈钢合页 4寸", "price": 880,
                                   "cost": 560}]), 2)
    assert s.catalog_costs(["JC-1001"]) == {"JC-1001": 560}
    assert s.catalog_search("", 10)[0].to_json()["category"] == ""
