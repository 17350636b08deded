"""Small block builders shared by the receipt-printer templates."""

from __future__ import annotations

from collections.abc import Mapping

from agent.printing.templates import fields as f
from drivers import InvalidInput
from drivers.escpos.document import Barcode, Block, Cell, Columns, Rule, Text
from drivers.escpos.textcodec import text_columns
from sync.protocol.print_job import REPRINT_TITLE, reprint_lines


def center(text: str, *, bold: bool = False, size: int = 1) -> Text:
    """A centred paragraph, optionally bold and enlarged `size` times."""
    return Text(text, align="center", bold=bold, width=size, height=size)


def kv(columns: int, left: str, right: str) -> Columns:
    """Two texts on one row, the first flush left and the second flush right; wraps if too long."""
    need = text_columns(right)
    if text_columns(left) + need > columns:
        need = columns // 2
    return Columns((Cell(left, None), Cell(right, max(need, 1), "right")))


def title(text: str, columns: int) -> Text:
    """A bold centred heading, doubled in size when it still fits on one line."""
    size = 2 if text_columns(text) * 2 <= columns else 1
    return center(text, bold=True, size=size)


def amount_row(columns: int, label: str, amount: str, *, bold: bool = False) -> Columns:
    """A label on the left and an amount flush right."""
    return Columns((Cell(label, None), Cell(amount, min(16, columns // 2), "right")), bold=bold)


def code128(data: str, paper_dots: int, height: int = 60) -> Barcode | None:
    """CODE128 of `data` at the widest module that fits the paper, or None if none fits."""
    if not data or not all(32 <= ord(c) < 127 for c in data):
        return None
    modules = 11 * (len(data) + 3) + 2  # start + data + check + stop, code set B
    for module in (2, 1):
        if modules * module <= paper_dots:
            return Barcode("CODE128", data, height=height, module=module)
    return None


def rule(char: str = "-") -> Rule:
    """A full-width rule."""
    return Rule(char)


def reprint_mark(data: Mapping[str, object]) -> tuple[Block, ...]:
    """The 补打 banner heading a reprinted job's paper: `data.reprint` true, or {"of": the
    original job id, "reason"}; nothing when absent or false."""
    raw = data.get("reprint", False)
    if raw is False:
        return ()
    lines: tuple[str, ...] = ()
    if raw is not True:
        if not isinstance(raw, Mapping):
            raise InvalidInput("data.reprint", "must be true, false or an object {of, reason}")
        lines = reprint_lines(f.text(raw, "of", "data.reprint", max_len=128),
                              f.text(raw, "reason", "data.reprint", max_len=200))
    return (center(REPRINT_TITLE, bold=True, size=2), *(Text(t) for t in lines), Rule("="))
