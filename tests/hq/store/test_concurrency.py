"""Several worker processes, each with its own store on one database, race at the same
positions: every journal head, event position and job id is won by exactly one of them, and
read-modify-writes of a box's state lose no update, and orders added at once each get their
own list position."""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.synchronize
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hq.store import HqStore, JobRow, StoredEntry
from hq.store.backends import open_store
from hq.store.orders import OrderRow
from sync.protocol.messages import JobEvent

WORKERS = 4
ROUNDS = 15


def entry(seq: int, worker: int) -> StoredEntry:
    return StoredEntry(seq, f'{{"seq":{seq},"worker":{worker},"text":"收银"}}'.encode(),
                       bytes([seq, worker]) * 16, bytes([worker]) * 64)


def bump(state: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": "重庆江北店", "count": (state or {}).get("count", 0) + 1}


def race(target: Path | str, worker: int, barrier: multiprocessing.synchronize.Barrier,
         results: Any) -> None:
    """One worker process: each round, wait for the others, then try every conditional write."""
    store = open_store(target)
    try:
        for k in range(ROUNDS):
            barrier.wait(60)
            won_head = store.journal_append("BOX-A", "log1", k, [entry(k, worker)],
                                            {"size": k + 1, "worker": worker}, k)
            won_events = store.apply_events("BOX-A", "s1", k, [
                JobEvent(k + 1, f"J{k}", "front", "printed", worker + 1, k)], k)
            _, created = store.job_create(JobRow(f"J{k}", "BOX-A", "front", {"w": worker},
                                                 f"h{worker}", 10**12, k))
            store.box_update("BOX-A", bump)
            store.order_add(OrderRow(f"XS-{k:03d}-{worker}", "C001", "S01", None,
                                     {"round": k, "worker": worker}, f"h{k}-{worker}", k))
            results.put((k, worker, won_head, won_events, created))
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_workers_racing_at_one_position_store_each_write_exactly_once(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    target: Path | str = (tmp_path / "hq.db" if backend == "sqlite"
                          else request.getfixturevalue("pg_url"))
    open_store(target).close()  # migrated once, before the race
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(target, w, barrier, results))
             for w in range(WORKERS)]
    for p in procs:
        p.start()
    rows = [results.get(timeout=120) for _ in range(WORKERS * ROUNDS)]
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * WORKERS
    store: HqStore = open_store(target)
    try:
        for k in range(ROUNDS):
            this = [r for r in rows if r[0] == k]
            head_winners = [r[1] for r in this if r[2]]
            assert len(head_winners) == 1, this
            assert sum(r[3] for r in this) == 1 and sum(r[4] for r in this) == 1, this
            assert store.journal_entries("BOX-A", k, k + 1) == [entry(k, head_winners[0])]
        head = store.journal_head("BOX-A")
        assert head is not None and head.size == ROUNDS
        assert [e.seq for e in store.journal_entries("BOX-A", 0, 10**6)] == list(range(ROUNDS))
        assert store.event_pos("BOX-A", "s1") == ROUNDS
        assert len(store.jobs_recent(1000)) == ROUNDS
        assert store.box_state("BOX-A") == {"name": "重庆江北店", "count": WORKERS * ROUNDS}
        # Orders added at the same moment each get their own list position.
        assert len(store.orders_of(None, 1000)) == WORKERS * ROUNDS
    finally:
        store.close()
    assert order_positions(target) == list(range(1, WORKERS * ROUNDS + 1))


def order_positions(target: Path | str) -> list[int]:
    """The orders' list positions, read from the database directly."""
    sql = "SELECT seq FROM orders ORDER BY seq"
    if isinstance(target, Path):
        with sqlite3.connect(target) as db:
            return [int(r[0]) for r in db.execute(sql)]
    with psycopg.connect(target) as pg:
        return [int(r[0]) for r in pg.execute(sql)]
