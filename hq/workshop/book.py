"""Every box's workshop tally kept current from HQ's store (blocking shell around
`hq.workshop.progress`): stored records are verified and never rewritten, so each call reads
only what was appended since the last one."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterable
from typing import Any

from hq.store import HqStore
from hq.workshop.progress import Tally

CHUNK = 5000


class WorkshopBook:
    """The workshop tallies of every box HQ holds a journal of."""

    def __init__(self, store: HqStore, chunk: int = CHUNK) -> None:
        self.store = store
        self.chunk = chunk
        self._tallies: dict[str, tuple[str, Tally]] = {}
        self._lock = threading.Lock()

    def box(self, box: str) -> Tally | None:
        """One box's tally, brought up to date with what HQ holds (None without a journal)."""
        with self._lock:
            head = self.store.journal_head(box)
            if head is None:
                return None
            log, tally = self._tallies.get(box, (head.log, Tally(box)))
            if log != head.log or tally.size > head.size:
                tally = Tally(box)
            while tally.size < head.size:
                entries = self.store.journal_entries(box, tally.size,
                                                     min(head.size, tally.size + self.chunk))
                if not entries:
                    break
                for e in entries:
                    tally.feed(json.loads(e.raw))
            self._tallies[box] = (head.log, tally)
            return tally

    def tallies(self, boxes: Iterable[str]) -> list[Tally]:
        """The tallies of several boxes (those HQ holds a journal of), by box id."""
        return [t for b in sorted(set(boxes)) if (t := self.box(b)) is not None]


CSV_HEADER = ("日期", "门店设备", "工号", "任务号", "工序", "工序名称", "合格数", "不良数",
              "计件单价(分)", "金额(分)")


def pieces_csv(rows: list[dict[str, Any]]) -> str:
    """Piece counts for payroll as CSV (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for r in rows:
        w.writerow((r["day"], r["box"], r["worker"], r["task"], r["step"], r["step_name"],
                    r["good"], r["defective"], r["piece_rate"], r["amount"]))
    return "\ufeff" + out.getvalue()
