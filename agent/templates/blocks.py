"""Small block builders shared by the receipt-printer templates."""

from __future__ import annotations

from drivers.escpos.document import Cell, Columns, Rule, Text


def center(text: str, *, bold: bool = False, size: int = 1) -> Text:
    """A centred paragraph, optionally bold and enlarged `size` times."""
    return Text(text, align="center", bold=bold, width=size, height=size)


def kv(columns: int, left: str, right: str) -> Columns:
    """Two texts on one row, the first flush left and the second flush right."""
    half = columns // 2
    return Columns((Cell(left, None), Cell(right, half, "right")))


def amount_row(columns: int, label: str, amount: str) -> Columns:
    """A label on the left and an amount flush right."""
    return Columns((Cell(label, None), Cell(amount, min(16, columns // 2), "right")))


def rule(char: str = "-") -> Rule:
    """A full-width rule."""
    return Rule(char)
