"""Every box's workshop tally kept current from HQ's store (blocking shell around
`hq.workshop.progress`): stored records are verified and never rewritten, so each call reads
only what was appended since the last one."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook

from hq.store import HqStore
from hq.store.folds import JournalFolds
from hq.workshop.progress import Tally

CHUNK = 5000


class WorkshopBook:
    """The workshop tallies of every box HQ holds a journal of."""

    def __init__(self, store: HqStore, chunk: int = CHUNK) -> None:
        self.store = store
        self.chunk = chunk
        self._tallies = JournalFolds(store, Tally, chunk)

    def box(self, box: str) -> Tally | None:
        """One box's tally, brought up to date with what HQ holds (None without a journal)."""
        return self._tallies.read(box, lambda tally: tally)

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
        w.writerow(pieces_row(r))
    return "\ufeff" + out.getvalue()


def pieces_row(r: dict[str, Any]) -> tuple[Any, ...]:
    """One piece-count row in the order of CSV_HEADER."""
    return (r["day"], r["box"], r["worker"], r["task"], r["step"], r["step_name"], r["good"],
            r["defective"], r["piece_rate"], r["amount"])


def pieces_xlsx(rows: list[dict[str, Any]]) -> bytes:
    """The same rows as an XLSX workbook (one sheet 计件工资, CSV_HEADER's columns, counts and
    fen as numbers) for payroll."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("计件工资")
    sheet.append(list(CSV_HEADER))
    for r in rows:
        sheet.append(list(pieces_row(r)))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
