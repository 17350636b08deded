"""What a label printer was asked to draw, in dots: the interpreters' output, the renderer's input.

`pivot` True means TSPL placement: (x, y) is the unrotated element's top-left and the element
turns clockwise about it. `pivot` False means ZPL `^FO`: (x, y) is the rotated element's top-left.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DrawBar", "DrawBarcode", "DrawBitmap", "DrawBox", "DrawQR", "DrawText", "Drawing", "Event",
    "Notice", "ParsedLabel", "Query",
]


@dataclass(frozen=True)
class DrawText:
    """Text on a column grid: char i takes widths[i] columns of cell_w × cell_h, then × mul."""

    x: int
    y: int
    text: str
    widths: tuple[int, ...]
    cell_w: int
    cell_h: int
    rotation: int = 0
    pivot: bool = False
    mul_x: int = 1
    mul_y: int = 1
    glyphs: bool = True  # False: the printer has no glyphs for non-ASCII (drawn as empty boxes)


@dataclass(frozen=True)
class DrawBarcode:
    """A 1-D barcode: CODE128, EAN13 or CODE39, `data` as the printer received it."""

    x: int
    y: int
    symbology: str
    data: str
    height: int
    module: int
    hri: bool
    hri_h: int
    rotation: int = 0
    pivot: bool = False


@dataclass(frozen=True)
class DrawQR:
    """A QR code of `cell`-dot modules at error correction `ec`."""

    x: int
    y: int
    data: str
    ec: str
    cell: int
    rotation: int = 0
    pivot: bool = False


@dataclass(frozen=True)
class DrawBox:
    """A rectangle w × h with lines `thickness` dots thick drawn inside it."""

    x: int
    y: int
    w: int
    h: int
    thickness: int


@dataclass(frozen=True)
class DrawBar:
    """A filled rectangle."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class DrawBitmap:
    """Raw rows MSB first, 1 = black; mode 'overwrite' also paints white, 'or' only black."""

    x: int
    y: int
    width_bytes: int
    rows: int
    data: bytes
    mode: str = "or"


Drawing = DrawText | DrawBarcode | DrawQR | DrawBox | DrawBar | DrawBitmap


@dataclass(frozen=True)
class ParsedLabel:
    """One label as a printer would print it: size in dots and what to draw, in order."""

    language: str
    width: int
    height: int
    dpi: int
    copies: int
    elements: tuple[Drawing, ...]


@dataclass(frozen=True)
class Query:
    """A status or identification query the printer must answer now (`!?`, `!S`, `~HS`, `~HI`)."""

    command: str


@dataclass(frozen=True)
class Notice:
    """Something the interpreter skipped, and why."""

    message: str


Event = ParsedLabel | Query | Notice
