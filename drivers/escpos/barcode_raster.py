"""Barcodes and QR codes drawn as 1-bit images, and their sizes, for printers without them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers import InvalidInput

if TYPE_CHECKING:
    import segno

# python-barcode, segno and the glyph font are imported where a symbol is drawn: an idle box
# that prints text receipts never loads them (docs/deploy.md, idle memory).

# Our symbology names → python-barcode's.
_CLASSES = {"CODE128": "code128", "EAN13": "ean13", "EAN8": "ean8", "CODE39": "code39",
            "ITF": "itf", "UPC-A": "upca"}
HRI_GAP = 4  # dots between bars and human-readable text
QR_LEVELS = {"L": "l", "M": "m", "Q": "q", "H": "h"}


@dataclass(frozen=True)
class Bars:
    """A 1-D symbol: `pattern` has one '1' (bar) or '0' (space) per module; `text` is its HRI."""

    pattern: str
    text: str


def bars(kind: str, data: str, path: str) -> Bars:
    """The module pattern and HRI text of a validated barcode; InvalidInput at `path` otherwise."""
    name = _CLASSES.get(kind)
    if name is None:
        raise InvalidInput(path, f"unknown symbology {kind!r}")
    import barcode

    try:
        cls = barcode.get_barcode_class(name)
        # Printers add no CODE39 check character by default; neither do we.
        sym = cls(data, add_checksum=False) if name == "code39" else cls(data)
        pattern = "".join(sym.build())
        text = sym.get_fullcode() if name in ("ean13", "ean8", "upca") else data
    except Exception as e:  # python-barcode raises assorted types for data it cannot encode
        raise InvalidInput(path, f"cannot encode as {kind} ({type(e).__name__})") from None
    return Bars(pattern, str(text))


def native_modules(kind: str, data: str, pattern: str) -> int:
    """Modules a printer draws for `GS k`: CODE128 goes as code set B (`{B`), the rest as drawn."""
    if kind == "CODE128":
        return 11 * len(data) + 35  # start + data + check (11 each) + stop (13)
    return len(pattern)


def barcode_image(sym: Bars, height: int, module: int, hri: str) -> Image.Image:
    """Bars `module` dots per module and `height` dots tall, with HRI text above/below/both."""
    from PIL import Image
    n = len(sym.pattern)
    row = Image.frombytes("L", (n, 1), bytes(0 if c == "1" else 255 for c in sym.pattern))
    bars_img = row.resize((n * module, height), Image.Resampling.NEAREST).convert("1")
    if hri == "none" or not sym.text:
        return bars_img
    from drivers.glyphs import CELL_H, CELL_W, text_bitmap

    label = text_bitmap(sym.text, [1] * len(sym.text), cell_w=CELL_W, cell_h=CELL_H)
    width = max(bars_img.width, label.width)
    above, below = hri in ("above", "both"), hri in ("below", "both")
    bars_top = CELL_H + HRI_GAP if above else 0
    total = bars_top + height + (HRI_GAP + CELL_H if below else 0)
    out = Image.new("1", (width, total), 1)
    out.paste(bars_img, ((width - bars_img.width) // 2, bars_top))
    if above:
        out.paste(label, ((width - label.width) // 2, 0))
    if below:
        out.paste(label, ((width - label.width) // 2, bars_top + height + HRI_GAP))
    return out


def qr_symbol(data: str, ec: str, path: str) -> segno.QRCode:
    """The QR code (model 2, byte mode over UTF-8) a printer would make of `data`."""
    if ec not in QR_LEVELS:
        raise InvalidInput(f"{path}.ec", f"must be one of {', '.join(QR_LEVELS)}")
    if not data:
        raise InvalidInput(f"{path}.data", "must not be empty")
    try:
        raw = data.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{path}.data", "contains a lone surrogate, not text") from None
    import segno

    try:
        return segno.make_qr(raw, error=QR_LEVELS[ec], boost_error=False)
    except segno.DataOverflowError:
        raise InvalidInput(f"{path}.data", f"too long for a QR code at level {ec}") from None


def qr_image(qr: segno.QRCode, size: int) -> Image.Image:
    """The symbol at `size` dots per module, with a 4-module quiet zone above and below (the
    line it sits on leaves the sides blank; the width stays that of the bare symbol)."""
    from PIL import Image
    n = len(qr.matrix)
    raw = bytes(0 if v else 255 for row in qr.matrix for v in row)
    img = Image.frombytes("L", (n, n), raw)
    sym = img.resize((n * size, n * size), Image.Resampling.NEAREST).convert("1")
    out = Image.new("1", (sym.width, sym.height + 8 * size), 1)
    out.paste(sym, (0, 4 * size))
    return out
