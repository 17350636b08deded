"""Draw paper events as the receipt would come out: previews and the simulated printer's output.

Mode-'1' images (0 = ink, 1 = paper), `profile.paper_dots` wide. Text uses drivers.glyphs on the
12×24 cell grid, so native text and raster text look alike. Barcodes get a 10-module and QR codes
a 4-module quiet zone so what is drawn can be scanned; a symbol wider than the paper is drawn with
smaller modules (a real printer would skip it). Cuts are dashed lines with scissors; drawer pulses
and beeps get a small marker strip unless `markers=False`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from PIL import Image, ImageDraw

from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import (
    QR,
    Align,
    Barcode,
    Beep,
    Cut,
    Drawer,
    Feed,
    Line,
    PaperEvent,
    Raster,
)
from drivers.escpos.textcodec import char_columns
from drivers.glyphs import CELL_H, scale, text_bitmap
from drivers.profiles import PrinterProfile

__all__ = ["barcode_image", "max_height", "paper_events", "qr_image", "render", "render_bytes",
           "to_png"]

MAX_HEIGHT = 200_000  # dots; garbage input cannot make a preview of unbounded size
MAX_RENDER_DOTS = 24_000_000  # and not one of more dots: ~41,000 rows of 80 mm paper
FEED_CHUNK = 65_536  # bytes interpreted at a time, so drawing stops where the paper does
QUIET_MODULES = 10
QR_QUIET_MODULES = 4
HRI_GAP = 4
MARKER_H = CELL_H
# Symbology → (python-barcode name, options); printers add no CODE39 check character.
_BARCODE_CLASSES: dict[str, tuple[str, dict[str, bool]]] = {
    "UPC-A": ("upca", {}), "EAN13": ("ean13", {}), "EAN8": ("ean8", {}),
    "CODE39": ("code39", {"add_checksum": False}), "ITF": ("itf", {}),
    "CODE128": ("code128", {}), "CODE128-AUTO": ("code128", {}), "CODABAR": ("codabar", {}),
}

Block = tuple[Image.Image | None, Align, int]  # image, alignment, height the paper advances


def _text(text: str) -> Image.Image:
    return text_bitmap(text, [char_columns(c) for c in text])


def _placeholder(label: str, paper: int) -> Image.Image:
    """A framed note for a symbol that cannot be drawn (unsupported or invalid data)."""
    note = _text(label[: max(paper // 12 - 2, 1)])
    img = Image.new("1", (min(note.width + 8, paper), note.height + 8), 255)
    img.paste(note, (4, 4))
    ImageDraw.Draw(img).rectangle((0, 0, img.width - 1, img.height - 1), outline=0)
    return img


def line_image(line: Line) -> Image.Image:
    """A text line: spans side by side on a common baseline, 24 × height_mult dots high."""
    parts = []
    for span in line.spans:
        widths = span.widths or tuple(char_columns(c) for c in span.text)
        if sum(widths) == 0:
            continue
        img = text_bitmap(span.text, widths, bold=span.bold, underline=bool(span.underline))
        parts.append(scale(img, span.width_mult, span.height_mult))
    height = CELL_H * line.height_mult
    out = Image.new("1", (max(sum(p.width for p in parts), 1), height), 255)
    x = 0
    for p in parts:
        out.paste(p, (x, height - p.height))
        x += p.width
    return out


def barcode_image(ev: Barcode, paper: int) -> Image.Image:
    """Bars from python-barcode's module pattern, `module` dots per module, quiet zones, HRI."""
    spec = _BARCODE_CLASSES.get(ev.symbology)
    if spec is None:
        return _placeholder(f"{ev.symbology} {ev.data}", paper)
    name, options = spec
    import barcode  # where a barcode is drawn: the daemon loads it only for previews of one

    try:
        sym = barcode.get_barcode_class(name)(ev.data, **options)
        pattern = "".join(sym.build())
        hri = sym.get_fullcode()
    except (barcode.errors.BarcodeError, ValueError, TypeError, IndexError, KeyError):
        return _placeholder(f"{ev.symbology}? {ev.data}", paper)
    # python-barcode draws ITF narrow elements as 2 pattern units (wide as 5): halve the module.
    unit = max(ev.module // 2, 1) if name == "itf" else ev.module
    while unit > 1 and (len(pattern) + 2 * QUIET_MODULES) * unit > paper:
        unit -= 1
    bars_w = (len(pattern) + 2 * QUIET_MODULES) * unit
    bars = Image.new("1", (bars_w, ev.height), 255)
    draw = ImageDraw.Draw(bars)
    for k, bit in enumerate(pattern):
        if bit == "1":
            x = (QUIET_MODULES + k) * unit
            draw.rectangle((x, 0, x + unit - 1, ev.height - 1), fill=0)
    if not ev.hri:
        return bars
    text = _text(hri)
    above, below = ev.hri in (1, 3), ev.hri in (2, 3)
    width = max(bars_w, text.width)
    height = ev.height + (above + below) * (text.height + HRI_GAP)
    out = Image.new("1", (width, height), 255)
    y = 0
    if above:
        out.paste(text, ((width - text.width) // 2, 0))
        y = text.height + HRI_GAP
    out.paste(bars, ((width - bars_w) // 2, y))
    if below:
        out.paste(text, ((width - text.width) // 2, y + ev.height + HRI_GAP))
    return out


def qr_image(ev: QR, paper: int) -> Image.Image:
    """The QR symbol of the stored bytes (byte mode, as printers encode), `size` dots a module."""
    import segno

    try:
        qr = segno.make_qr(ev.raw, error=ev.ec.lower(), boost_error=False)
    except (segno.DataOverflowError, ValueError):
        return _placeholder(f"QR? {len(ev.raw)} bytes", paper)
    matrix = qr.matrix
    n = len(matrix)
    side = n + 2 * QR_QUIET_MODULES
    size = ev.size
    while size > 1 and side * size > paper:
        size -= 1
    core = Image.new("1", (n, n), 255)
    core.putdata([0 if dark else 1 for row in matrix for dark in row])
    modules = Image.new("1", (side, side), 255)
    modules.paste(core, (QR_QUIET_MODULES, QR_QUIET_MODULES))
    return scale(modules, size, size)


def cut_image(ev: Cut, paper: int) -> Image.Image:
    """A dashed line with scissors; a partial cut leaves its middle fifth uncut."""
    img = Image.new("1", (paper, MARKER_H), 255)
    draw = ImageDraw.Draw(img)
    draw.ellipse((1, 3, 8, 10), outline=0)
    draw.ellipse((1, 13, 8, 20), outline=0)
    draw.line((7, 9, 20, 15), fill=0, width=2)
    draw.line((7, 14, 20, 8), fill=0, width=2)
    mid = MARKER_H // 2
    for x in range(24, paper, 12):
        if ev.partial and 2 * paper // 5 <= x < 3 * paper // 5:
            continue
        draw.line((x, mid, min(x + 7, paper - 1), mid), fill=0, width=2)
    return img


def _marker(label: str, paper: int) -> Image.Image:
    """A small framed note at the right edge for things that do not print (drawer, buzzer)."""
    note = _placeholder(label, paper)
    img = Image.new("1", (paper, note.height), 255)
    img.paste(note, (paper - note.width, 0))
    return img


def _blocks(events: Iterable[PaperEvent], paper: int, markers: bool) -> Iterable[Block]:
    for ev in events:
        if isinstance(ev, Line):
            img = line_image(ev) if ev.spans else None
            yield img, ev.align, max(ev.advance, img.height if img else 0)
        elif isinstance(ev, Raster):
            yield ev.image, ev.align, ev.image.height
        elif isinstance(ev, Barcode):
            img = barcode_image(ev, paper)
            yield img, ev.align, img.height
        elif isinstance(ev, QR):
            img = qr_image(ev, paper)
            yield img, ev.align, img.height
        elif isinstance(ev, Feed):
            yield None, "left", ev.dots
        elif isinstance(ev, Cut):
            yield cut_image(ev, paper), "left", MARKER_H
        elif markers and isinstance(ev, Drawer):
            img = _marker(f"开钱箱 {ev.pin}", paper)
            yield img, "left", img.height
        elif markers and isinstance(ev, Beep):
            img = _marker(f"蜂鸣 {ev.times}", paper)
            yield img, "left", img.height


def render(events: Iterable[PaperEvent], profile: PrinterProfile, *,
           markers: bool = True) -> Image.Image:
    """Draw `events` top to bottom on paper `profile.paper_dots` wide (at least 1 dot high);
    what lies below max_height(profile) is not drawn, and later events are not even read."""
    paper = profile.paper_dots
    limit = max_height(profile)
    placed: list[tuple[Image.Image, int, int]] = []
    y = 0
    for block, align, advance in _blocks(events, paper, markers):
        if y >= limit:
            break
        if block is not None:
            img = block
            if img.width > paper or y + img.height > limit:
                img = img.crop((0, 0, min(img.width, paper), min(img.height, limit - y)))
            x = {"left": 0, "center": (paper - img.width) // 2, "right": paper - img.width}[align]
            placed.append((img, x, y))
        y += advance
    canvas = Image.new("1", (paper, max(min(y, limit), 1)), 255)
    for img, x, top in placed:
        canvas.paste(img, (x, top))
    # Glyph bitmaps store paper as 1, not 255; make every pixel exactly 0 or 255.
    return canvas.convert("L").convert("1", dither=Image.Dither.NONE)


def max_height(profile: PrinterProfile) -> int:
    """Rows a rendering of `profile`'s paper may have: MAX_HEIGHT, or fewer on wide paper."""
    return min(MAX_HEIGHT, MAX_RENDER_DOTS // max(profile.paper_dots, 1))


def paper_events(data: bytes, profile: PrinterProfile) -> Iterator[PaperEvent]:
    """The paper events of `data` (from power-on state), interpreted as they are drawn."""
    interp = EscposInterpreter(profile)
    for start in range(0, len(data), FEED_CHUNK):
        interp.feed(data[start:start + FEED_CHUNK])
        yield from interp.events()
    interp.close()
    yield from interp.events()


def render_bytes(data: bytes, profile: PrinterProfile, *, markers: bool = True) -> Image.Image:
    """Interpret `data` as a printer would (from power-on state) and draw the result."""
    return render(paper_events(data, profile), profile, markers=markers)


def to_png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
