"""Keeping the report aggregates current: each box's verified records after its report position
are folded into the aggregate rows, a chunk per transaction, exactly once (blocking: call from a
thread; any number of workers may run it on one store at once)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from hq.reports.facts import UNASSIGNED, Fact, fact_of, fold
from hq.store import HqStore
from hq.store.reports import Credit, Touch

log = logging.getLogger(__name__)
CHUNK = 2000
"""Records folded per transaction."""


class ReportFeeder:
    """Folds stored journal records into the report aggregates of `store`; `store_of` names the
    store (`[[stores]]`) of each box when its records are aggregated."""

    def __init__(self, store: HqStore, store_of: Mapping[str, str], clock: Callable[[], int],
                 chunk: int = CHUNK) -> None:
        self.store = store
        self.store_of = store_of
        self.clock = clock
        self.chunk = chunk

    def catch_up(self) -> int:
        """Fold what every box has stored beyond its report position, the boxes' records
        merged by their time (so after an outage a member's first sale is still taken first);
        records folded by this call (another worker may have folded others)."""
        done = 0
        pending = {box: (pos, size) for box, size, pos in self.store.report_lag()}
        # Each box's records are read and parsed once, a chunk at a time: merging by time may
        # take them a few at a time from several boxes in turn.
        ahead: dict[str, list[dict[str, Any]]] = {}
        for box, (pos, size) in pending.items():
            ahead[box] = self._records(box, pos, min(size, pos + self.chunk))
        while pending:
            box = min(pending, key=lambda b: (_time(ahead[b]), b))
            pos, size = pending[box]
            others = [_time(ahead[b]) for b in pending if b != box]
            step = self.step(box, pos, ahead[box], min(others) if others else None)
            if step is None or pos + step >= size:
                # Done, or another worker holds this box's position now: leave it to them.
                del pending[box], ahead[box]
                done += step or 0
                continue
            done += step
            pending[box] = (pos + step, size)
            ahead[box] = ahead[box][step:] or self._records(box, pos + step,
                                                            min(size, pos + step + self.chunk))
        return done

    def _records(self, box: str, pos: int, end: int) -> list[dict[str, Any]]:
        """Records pos … end-1 of `box`, parsed."""
        return [json.loads(e.raw) for e in self.store.journal_entries(box, pos, end)]

    def step(self, box: str, pos: int, records: list[dict[str, Any]],
             until_ms: int | None = None) -> int | None:
        """Fold `records`, those of `box` from `pos` on (stopping before the first one after
        `until_ms`, but at least one), and move its position; how many, or None if another
        worker moved the position first."""
        if not records:
            return 0
        if until_ms is not None:
            cut = next((i for i, r in enumerate(records) if i and int(r["time"]) > until_ms),
                       len(records))
            records = records[:cut]
        store = self.store_of.get(box, UNASSIGNED)
        facts = [f for f in (self._fact(box, store, r, records, pos) for r in records)
                 if f is not None]
        costs = self.store.catalog_costs(ln.sku for f in facts for ln in f.lines)
        touches = [Touch(f.member, f.kind == "sale", f.clerk, f.store, f.box, f.seq, f.origin)
                   for f in facts]

        def rows(credits: list[Credit]) -> dict[tuple[str, str, str, str], list[int]]:
            return fold(zip(facts, credits, strict=True), costs)

        new_pos = pos + len(records)
        if not self.store.report_apply(box, pos, new_pos, touches, rows, self.clock()):
            return None
        return len(records)

    def _fact(self, box: str, store: str, record: dict[str, Any], batch: list[dict[str, Any]],
              first: int) -> Fact | None:
        sale: dict[str, Any] | None = None
        if record.get("type") in ("refund", "void"):
            seq = int(record["body"]["sale_seq"])
            if seq >= first:
                sale = batch[seq - first]
            else:
                found = self.store.journal_entries(box, seq, seq + 1)
                sale = json.loads(found[0].raw) if found else None
            if sale is None or sale.get("type") != "sale":
                # The verifier checks what sale_seq names (docs/journal.md §9.2 step 10c).
                log.error("box %s: %s %s names seq %s, not a stored sale: not counted", box,
                          record.get("type"), record.get("seq"), seq)
                return None
            sale = sale["body"]
        return fact_of(box, store, record, sale)


def _time(records: list[dict[str, Any]]) -> int:
    """The time of the first of these records (0: none)."""
    return int(records[0]["time"]) if records else 0
