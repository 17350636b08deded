"""Folding boxes whose records interleave in time reads each stored record once: merging by
time takes a few records from each box in turn, and used to read (and parse) a whole chunk of
the box again at every turn."""

from __future__ import annotations

from pathlib import Path

from hq.reports.feed import ReportFeeder
from hq.store import StoredEntry
from hq.store.sqlite import SqliteStore
from tests.hq.reports.shop import COSTS, Box, aggregates, recompute
from tests.hq.reports.test_aggregates import STORES, catalog


class CountingStore(SqliteStore):
    """The SQLite store, counting the journal entries read."""

    read = 0

    def journal_entries(self, box: str, start: int, end: int) -> list[StoredEntry]:
        got = super().journal_entries(box, start, end)
        self.read += len(got)
        return got


def test_interleaved_boxes_are_folded_reading_each_record_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "hq.db")
    catalog(store)
    boxes = [Box(bid, code) for bid, code in STORES.items()]
    for i in range(120):
        for b in boxes:  # the same hours: each box's records fall between the others'
            b.sale([("JC-1001", 1 + i % 3)], customer=f"M{i % 7}@{b.id}", hours=1)
    for b in boxes:
        b.store_into(store)
    total = sum(len(b.chain.entries) for b in boxes)
    store.read = 0
    assert ReportFeeder(store, STORES, lambda: 0, chunk=50).catch_up() == total
    assert store.read <= total
    assert aggregates(store) == recompute(boxes, COSTS)
    store.close()
