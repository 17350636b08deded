"""What a receipt printer does with its input: the paper events the ESC/POS interpreter emits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from PIL import Image

Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class Span:
    """A run of text in one style; `columns`: 12-dot cells at size 1, `widths`: per character."""

    text: str
    bold: bool = False
    underline: int = 0  # 0 none, 1 thin, 2 thick
    width_mult: int = 1
    height_mult: int = 1
    columns: int = 0
    widths: tuple[int, ...] = ()


@dataclass(frozen=True)
class Line:
    """One printed line of text; the paper then moves `advance` dots (no spans: a blank line)."""

    spans: tuple[Span, ...]
    align: Align = "left"
    height_mult: int = 1
    advance: int = 30

    @property
    def text(self) -> str:
        """The line's characters, all spans joined."""
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Raster:
    """One `GS v 0` image, mode '1' (0 = ink); each chunk of a split image is its own event."""

    image: Image.Image
    align: Align = "left"


@dataclass(frozen=True)
class Barcode:
    """A `GS k` barcode: symbology name (UPC-A, EAN13, …), data, bar height and module in dots."""

    symbology: str
    data: str
    height: int = 162
    module: int = 3
    hri: int = 0  # 0 none, 1 above, 2 below, 3 both
    align: Align = "left"


@dataclass(frozen=True)
class QR:
    """A QR code (model 2); `data`: the stored bytes as UTF-8, bad bytes surrogate-escaped."""

    data: str
    size: int = 3
    ec: Literal["L", "M", "Q", "H"] = "L"
    align: Align = "left"

    @property
    def raw(self) -> bytes:
        """The exact bytes the host stored."""
        return self.data.encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Feed:
    """Paper moved forward by `dots` without printing."""

    dots: int


@dataclass(frozen=True)
class Cut:
    """A paper cut; partial leaves a bridge."""

    partial: bool = False


@dataclass(frozen=True)
class Drawer:
    """A cash drawer pulse on connector pin 2 or 5."""

    pin: int
    on_ms: int
    off_ms: int


@dataclass(frozen=True)
class Beep:
    """The buzzer sounds `times` times for `duration` milliseconds each."""

    times: int
    duration: int


@dataclass(frozen=True)
class StatusRequest:
    """`DLE EOT n`: the host asks for status byte n (1..4); the printer answers at once."""

    n: int


@dataclass(frozen=True)
class Unknown:
    """Bytes the printer did not understand and ignored."""

    data: bytes


PaperEvent = Line | Raster | Barcode | QR | Feed | Cut | Drawer | Beep | StatusRequest | Unknown
PRINTING = (Line, Raster, Barcode, QR, Feed, Cut, Drawer, Beep)
"""Event types that make the printer do something physical (used to tell jobs from status polls)."""
