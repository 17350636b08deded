"""The clearing part of the store contract (runs, deposits), run against every backend."""

from __future__ import annotations

import threading

from hq.store import HqStore
from hq.store.clearing import ClearingRun, Deposit
from tests.hq.store.test_contract import store

__all__ = ["store"]


def run(day: str, run_id: str = "", n: int = 0) -> ClearingRun:
    return ClearingRun(run_id or f"CR-{day}", day, "财务-王芳", 1000 + n,
                       {"day": day, "lines": [{"store": "上海一店", "total": 12345 + n}]})


def test_one_run_per_day_recorded_after_the_run_it_read(store: HqStore) -> None:
    assert store.clearing_runs(10) == [] and store.clearing_days() == []
    assert store.clearing_run_add(run("2026-11-01"), 0)
    assert not store.clearing_run_add(run("2026-11-01", "CR-other"), 1)  # the day is cleared
    assert not store.clearing_run_add(run("2026-11-02"), 0)  # another run came in between
    assert store.clearing_run_add(run("2026-11-02"), 1)
    assert [(n, r.day) for n, r in store.clearing_runs(10)] == [(2, "2026-11-02"),
                                                               (1, "2026-11-01")]
    assert [r.day for _, r in store.clearing_runs(1)] == ["2026-11-02"]
    assert store.clearing_days() == [(1, "2026-11-01"), (2, "2026-11-02")]
    assert store.clearing_run("CR-2026-11-01") == run("2026-11-01")
    assert store.clearing_run("CR-nope") is None


def test_concurrent_runs_after_the_same_run_record_exactly_one(store: HqStore) -> None:
    results: list[bool] = []
    days = [f"2026-11-{d:02d}" for d in range(10, 18)]
    threads = [threading.Thread(target=lambda d=d: results.append(
        store.clearing_run_add(run(d), 0))) for d in days]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(store.clearing_days()) == 1


def test_deposits_are_kept_per_day_in_order(store: HqStore) -> None:
    a = Deposit("d1", "上海一店", "2026-11-01", 150000, "工行 0012", "早班现金", "财务-王芳", 5)
    b = Deposit("d2", "上海二店", "2026-11-01", 99, "建行 77", "", "财务-王芳", 6)
    c = Deposit("d3", "上海一店", "2026-11-02", 1, "x", "补存", "admin", 7)
    for d in (b, a, c):
        store.deposit_add(d)
    assert store.deposits("2026-11-01", 100) == [a, b]
    assert store.deposits(None, 2) == [a, b]
    assert store.deposits("2026-11-03", 100) == []
