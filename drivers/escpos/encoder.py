"""Document → ESC/POS bytes for one profile: native text where it works, raster elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers import InvalidInput
from drivers.escpos import barcode_raster as symbols
from drivers.escpos.document import (
    ALIGNS,
    BARCODE_TYPES,
    DEFAULT_MODULE,
    HRI_POSITIONS,
    QR,
    Align,
    Barcode,
    Beep,
    Block,
    Cell,
    Columns,
    Cut,
    Document,
    Drawer,
    Feed,
    Rule,
    Text,
    validate_barcode,
)
from drivers.escpos.document import Image as ImageBlock
from drivers.escpos.imaging import load_png, place, raster_commands, stack, text_line_image
from drivers.escpos.layout import columns_lines, rule_line, wrap
from drivers.escpos.textcodec import (
    DBCS_CODECS,
    KANJI_OFF,
    UTF8_ON,
    measure,
    needs_raster,
    normalize,
    plan,
    run_bytes,
)
from drivers.glyphs import CELL_H, CELL_W
from drivers.print_budget import Budget, document_budget
from drivers.profiles import DBCS_MODES, PrinterProfile

ESC, GS = b"\x1b", b"\x1d"
INIT = ESC + b"@"
LINE_SPACING = 30
LF = b"\n"
_ALIGN_N = {"left": 0, "center": 1, "right": 2}
# GS k m (function B, length-prefixed) per symbology.
_GS_K = {"UPC-A": 65, "EAN13": 67, "EAN8": 68, "CODE39": 69, "ITF": 70, "CODE128": 73}
_HRI_N = {"none": 0, "above": 1, "below": 2, "both": 3}
_QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}


@dataclass(frozen=True)
class Encoded:
    """Bytes for the printer: write the chunks in turn, pausing `pause_ms` between them."""

    chunks: tuple[bytes, ...]
    pause_ms: int

    @property
    def data(self) -> bytes:
        """All chunks joined."""
        return b"".join(self.chunks)


def _range(value: int, lo: int, hi: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(field, f"must be an integer {lo}-{hi}")
    return value


def _align(value: str, field: str) -> Align:
    if value not in ALIGNS:
        raise InvalidInput(field, f"must be one of {', '.join(ALIGNS)}")
    return "left" if value == "left" else "center" if value == "center" else "right"


def _check_profile(p: PrinterProfile) -> None:
    if p.language != "escpos":
        raise InvalidInput("profile.language", f"{p.name} speaks {p.language}, not ESC/POS")
    if p.dbcs not in DBCS_MODES:
        raise InvalidInput("profile.dbcs", f"must be one of {', '.join(DBCS_MODES)}")
    _range(p.columns, 8, 255, "profile.columns")
    _range(p.paper_dots, 64, 4096, "profile.paper_dots")
    _range(p.chunk_rows, 1, 4096, "profile.chunk_rows")
    _range(p.drawer_on_ms, 2, 510, "profile.drawer_on_ms")
    _range(p.drawer_off_ms, 2, 510, "profile.drawer_off_ms")
    for i, (n, codec) in enumerate(p.code_pages):
        try:
            "a".encode(codec)
        except LookupError:
            raise InvalidInput(f"profile.code_pages[{i}]", f"unknown codec {codec!r}") from None
        _range(n, 0, 255, f"profile.code_pages[{i}]")


class _Writer:
    """Accumulates one document's commands, tracking printer state to skip redundant ones."""

    def __init__(self, profile: PrinterProfile, budget: Budget) -> None:
        self.p = profile
        self.budget = budget
        self.path = "document"
        self.chunks: list[bytes] = []
        self.buf = bytearray(INIT + ESC + b"3" + bytes((LINE_SPACING,)))
        if profile.dbcs in DBCS_CODECS and profile.kanji_toggle:
            # Chinese firmware often powers up in Kanji mode and ESC @ leaves it on.
            self.buf += KANJI_OFF
        elif profile.dbcs == "utf8":
            self.buf += UTF8_ON
        self.measure = measure(profile)
        self.cell_w = min(CELL_W, profile.paper_dots // profile.columns)
        # ESC @ restores the page chosen in the printer's settings, which need not be 0.
        self.page: int | None = None
        self.align, self.bold, self.underline, self.size = 0, False, False, 0
        self.pending: list[Image.Image] = []

    def emit(self, data: bytes) -> None:
        """Native bytes, after any images still waiting."""
        self._images_out()
        self.buf += data

    def style(self, align: int, bold: bool = False, underline: bool = False,
              size: int = 0) -> None:
        self._images_out()
        if align != self.align:
            self.buf += ESC + b"a" + bytes((align,))
            self.align = align
        if bold != self.bold:
            self.buf += ESC + b"E" + bytes((bold,))
            self.bold = bold
        if underline != self.underline:
            self.buf += ESC + b"-" + bytes((underline,))
            self.underline = underline
        if size != self.size:
            self.buf += GS + b"!" + bytes((size,))
            self.size = size

    def flush(self) -> None:
        if self.buf:
            self.chunks.append(bytes(self.buf))
            self.buf.clear()

    def raster(self, img: Image.Image) -> None:
        """An already placed image; consecutive ones go out as one, in GS v 0 chunks of its own
        (fewer headers and pauses, and no banding between separate images)."""
        self.pending.append(img)

    def _images_out(self) -> None:
        if not self.pending:
            return
        if self.align:
            self.buf += ESC + b"a\x00"  # ESC a would shift the image again
            self.align = 0
        self.flush()
        self.chunks.extend(raster_commands(stack(self.pending), self.p.chunk_rows))
        self.pending.clear()
        self.page = None  # some firmware resets the code page after an image

    def lines(self, lines: Sequence[str], align: Align, bold: bool = False,
              underline: bool = False, mw: int = 1, mh: int = 1) -> None:
        """Text lines already laid out; each goes native if the printer can, else as an image."""
        size = (mw - 1) << 4 | (mh - 1)
        for line in lines:
            runs = plan(line, self.p, self.page)
            if needs_raster(runs, self.p):
                self.budget.charge_rows(max(LINE_SPACING, CELL_H * mh), self.path)
                img = text_line_image(line, [self.measure(c) for c in line], cell_w=self.cell_w,
                                      bold=bold, underline=underline, mw=mw, mh=mh,
                                      line_h=max(LINE_SPACING, CELL_H * mh))
                self.raster(place(img, align, self.p.paper_dots))
                continue
            if self.pending:  # the images reset the code page: plan again from "unknown"
                self._images_out()
                runs = plan(line, self.p, self.page)
            self.style(_ALIGN_N[align], bold, underline, size)
            data, self.page = run_bytes(runs, self.p, self.page)
            self.buf += data + LF

    def done(self) -> Encoded:
        self._images_out()
        self.flush()
        return Encoded(tuple(self.chunks), self.p.chunk_pause_ms)


def encode(doc: Document, profile: PrinterProfile, budget: Budget | None = None) -> Encoded:
    """Encode `doc` for `profile`; InvalidInput names the offending `document.blocks[i].field`,
    JobTooLarge the block that takes the document over its `budget` (print_budget)."""
    _check_profile(profile)
    w = _Writer(profile, budget or document_budget())
    for i, block in enumerate(doc.blocks):
        w.path = f"document.blocks[{i}]"
        _block(w, block, w.path)
        w.budget.check_time(w.path)
    return w.done()


def _block(w: _Writer, b: Block, path: str) -> None:
    p = w.p
    if isinstance(b, Text):
        mw = _range(b.width, 1, 8, f"{path}.width")
        mh = _range(b.height, 1, 8, f"{path}.height")
        align = _align(b.align, f"{path}.align")
        lines = wrap(normalize(b.text), p.columns // mw, w.measure, f"{path}.text")
        w.lines(lines, align, bool(b.bold), bool(b.underline), mw, mh)
    elif isinstance(b, Columns):
        cells = tuple(Cell(normalize(c.text), c.width, _align(c.align, f"{path}.cells[{j}].align"))
                      for j, c in enumerate(b.cells))
        w.lines(columns_lines(cells, p.columns, w.measure, path), "left", bool(b.bold))
    elif isinstance(b, Rule):
        w.lines([rule_line(normalize(b.char), p.columns, w.measure, path)], "left")
    elif isinstance(b, Feed):
        w.emit(ESC + b"d" + bytes((_range(b.lines, 1, 255, f"{path}.lines"),)))
    elif isinstance(b, Barcode):
        _barcode(w, b, path)
    elif isinstance(b, QR):
        _qr(w, b, path)
    elif isinstance(b, ImageBlock):
        align = _align(b.align, f"{path}.align")
        # Charged from the PNG header, before anything is decoded.
        header = w.budget.charge_image(b.png, f"{path}.png")
        w.budget.charge_rows(header.height, path)
        w.raster(place(load_png(b.png, p.paper_dots, bool(b.dither), f"{path}.png"), align,
                       p.paper_dots))
    elif isinstance(b, Cut):
        feed = _range(b.feed, 0, 255, f"{path}.feed")
        if b.mode not in ("full", "partial"):
            raise InvalidInput(f"{path}.mode", "must be full or partial")
        if not p.cut:
            if feed:
                w.emit(ESC + b"d" + bytes((feed,)))
            return
        m = b"B" if b.mode == "partial" and p.partial_cut else b"A"
        w.emit(GS + b"V" + m + bytes((feed,)))
    elif isinstance(b, Drawer):
        _drawer(w, b, path)
    elif isinstance(b, Beep):
        times = _range(b.times, 1, 9, f"{path}.times")
        duration = _range(b.duration, 1, 9, f"{path}.duration")
        if p.beep:
            w.emit(ESC + b"B" + bytes((times, duration)))
    else:
        raise InvalidInput(f"{path}.type", f"unknown block {type(b).__name__}")


def _barcode(w: _Writer, b: Barcode, path: str) -> None:
    p = w.p
    if b.type not in BARCODE_TYPES:
        raise InvalidInput(f"{path}.symbology", f"must be one of {', '.join(BARCODE_TYPES)}")
    height = _range(b.height, 1, 255, f"{path}.height")
    modules = (range(DEFAULT_MODULE, 0, -1) if b.module is None
               else (_range(b.module, 1, 6, f"{path}.module"),))
    if b.hri not in HRI_POSITIONS:
        raise InvalidInput(f"{path}.hri", f"must be one of {', '.join(HRI_POSITIONS)}")
    align = _align(b.align, f"{path}.align")
    validate_barcode(b.type, b.data, f"{path}.data")
    sym = symbols.bars(b.type, b.data, f"{path}.data")
    for module in modules:  # without a module: the widest that fits
        if p.native_barcode:
            dots = symbols.native_modules(b.type, b.data, sym.pattern) * module
        else:
            img = symbols.barcode_image(sym, height, module, b.hri)
            dots = img.width
        if dots <= p.paper_dots:
            break
    else:
        raise InvalidInput(f"{path}.data", f"barcode is {dots} dots wide, paper is "
                                           f"{p.paper_dots} (module {module})")
    if not p.native_barcode:
        w.budget.charge_rows(img.height, path)
        w.raster(place(img, align, p.paper_dots))
        return
    data = b.data.encode("ascii")
    if b.type == "CODE128":  # code set B; a "{" in the data would select a code set: "{{" is "{"
        data = b"{B" + data.replace(b"{", b"{{")
    w.style(_ALIGN_N[align], w.bold, w.underline, w.size)
    w.emit(GS + b"h" + bytes((height,)) + GS + b"w" + bytes((module,)) + GS + b"f\x00"
           + GS + b"H" + bytes((_HRI_N[b.hri],))
           + GS + b"k" + bytes((_GS_K[b.type], len(data))) + data)


def qr_commands(data: bytes, size: int, ec: str) -> bytes:
    """The native QR sequence: model 2, module size, error correction, store, print."""
    def fn(body: bytes) -> bytes:
        return GS + b"(k" + len(body).to_bytes(2, "little") + body
    return (fn(b"1A2\x00") + fn(b"1C" + bytes((size,))) + fn(b"1E" + bytes((_QR_EC[ec],)))
            + fn(b"1P0" + data) + fn(b"1Q0"))


def _qr(w: _Writer, b: QR, path: str) -> None:
    p = w.p
    size = _range(b.size, 1, 16, f"{path}.size")
    align = _align(b.align, f"{path}.align")
    w.budget.charge_qr(path)
    qr = symbols.qr_symbol(b.data, b.ec, path)
    dots = len(qr.matrix) * size
    if dots > p.paper_dots:
        raise InvalidInput(f"{path}.size", f"QR code is {dots} dots wide, paper is {p.paper_dots}")
    if not p.native_qr:
        w.budget.charge_rows(dots + 8 * size, path)
        w.raster(place(symbols.qr_image(qr, size), align, p.paper_dots))
        return
    w.style(_ALIGN_N[align], w.bold, w.underline, w.size)
    w.emit(qr_commands(b.data.encode("utf-8"), size, b.ec))


def _drawer(w: _Writer, b: Drawer, path: str) -> None:
    p = w.p
    if not p.drawer:
        raise InvalidInput(path, f"printer profile {p.name!r} has no cash drawer port")
    if b.pin not in (2, 5):
        raise InvalidInput(f"{path}.pin", "must be 2 or 5")
    on = p.drawer_on_ms if b.on_ms is None else _range(b.on_ms, 2, 510, f"{path}.on_ms")
    off = p.drawer_off_ms if b.off_ms is None else _range(b.off_ms, 2, 510, f"{path}.off_ms")
    w.emit(ESC + b"p" + bytes((0 if b.pin == 2 else 1, on // 2, off // 2)))
