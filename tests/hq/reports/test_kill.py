"""Exactly once across kill -9: an HQ process folding records is killed mid-way, again and
again; what it committed counts once, what it had not committed is folded by the next one."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from hq.catalog.products import parse_products
from hq.reports.feed import ReportFeeder
from hq.store.sqlite import SqliteStore
from tests.hq.reports.shop import COSTS, NAMES, PRICES, Box, aggregates, recompute

STORES = {"CQ-JB-001-B1": "CQ-JB-001", "CD-WH-002-B1": "CD-WH-002"}
CHILD = """
import sys, time
from pathlib import Path
from hq.reports.feed import ReportFeeder
from hq.store.sqlite import SqliteStore
stores = {"CQ-JB-001-B1": "CQ-JB-001", "CD-WH-002-B1": "CD-WH-002"}
f = ReportFeeder(SqliteStore(Path(sys.argv[1])), stores, lambda: 0, chunk=1)
while f.store.report_lag():
    f.catch_up()
"""


def folded(path: Path) -> int:
    """Records folded so far (the sum of the boxes' report positions)."""
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as c:
        return int(c.execute("SELECT COALESCE(SUM(pos), 0) FROM report_pos").fetchone()[0])


def test_kill_9_while_folding_counts_every_record_once(tmp_path: Path) -> None:
    path = tmp_path / "hq.db"
    store = SqliteStore(path)
    store.catalog_put(parse_products([{"sku": s, "name": NAMES[s], "price": PRICES[s],
                                       "cost": COSTS[s]} for s in COSTS]), 0)
    boxes = [Box(b, s) for b, s in STORES.items()]
    for i in range(300):
        b = boxes[i % 2]
        seq = b.sale([("JC-1003", 1 + i % 3)], salesperson="王芳", customer=f"M{i % 9}@{b.id}")
        if i % 6 == 5:
            b.refund(seq, 0, 1)
    for b in boxes:
        b.store_into(store)
    total = sum(len(b.chain.entries) for b in boxes)
    kills = 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    while kills < 3:
        before = folded(path)
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env)
        deadline = time.monotonic() + 120
        while folded(path) < before + 20 and child.poll() is None:
            assert time.monotonic() < deadline, "the folding process made no progress"
            time.sleep(0.02)
        if child.poll() is not None:
            break  # it finished everything before it could be killed
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        kills += 1
    assert kills >= 1, "the folding process finished before it could be killed"
    ReportFeeder(store, STORES, lambda: 0).catch_up()
    assert folded(path) == total
    assert aggregates(store) == recompute(boxes, COSTS)
    store.close()
