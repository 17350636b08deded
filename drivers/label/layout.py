"""Lay a label document out in printer dots at one dpi: wrap text, size symbols, check every fit."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image as PILImage

from drivers import InvalidInput
from drivers.label.document import (
    QR,
    Align,
    Barcode,
    Box,
    Image,
    LabelDocument,
    Line,
    Text,
)
from drivers.label.symbols import barcode_pattern, printer_data, qr_matrix, scan_text
from drivers.print_budget import Budget, label_budget

__all__ = [
    "BarPlan", "BarcodePlan", "BoxPlan", "ImagePlan", "LabelPlan", "Plan", "QrPlan", "TextPlan",
    "cell_width", "char_cols", "dots", "hri_height", "layout", "line_boxes", "text_cols", "wrap",
]

HRI_MM = 3.0  # room under a barcode for its human-readable digits
MIN_QR_MODULE_MM = 0.25


def dots(mm: float, dpi: int) -> int:
    """Millimetres to printer dots, rounded."""
    return round(mm * dpi / 25.4)


def hri_height(dpi: int) -> int:
    """Dots reserved under a barcode for its digits (printers draw them; we reserve the room)."""
    return dots(HRI_MM, dpi)


def cell_width(size_mm: float, dpi: int) -> int:
    """Dots per text column for characters `size_mm` high (a Han character takes two columns)."""
    return max(round(size_mm * dpi / 25.4 / 2), 2)


def char_cols(ch: str) -> int:
    """Columns of one character: ASCII takes one, anything else two (as in GB fonts)."""
    return 1 if ord(ch) < 128 else 2


def text_cols(text: str) -> int:
    """Columns of `text`."""
    return sum(char_cols(c) for c in text)


def _tokens(paragraph: str) -> list[str]:
    """Break opportunities: after a space, around every non-ASCII character."""
    out: list[str] = []
    word = ""
    for ch in paragraph:
        if ord(ch) >= 128:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        else:
            word += ch
            if ch == " ":
                out.append(word)
                word = ""
    if word:
        out.append(word)
    return out


def wrap(text: str, max_cols: int) -> list[str]:
    """Greedy wrap into lines of at most `max_cols` columns; '\\n' forces a break."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            if text_cols(line + token.rstrip()) <= max_cols:
                line += token
                continue
            if line.strip():
                lines.append(line.rstrip())
            rest = token
            while text_cols(rest.rstrip()) > max_cols:  # a word longer than a line
                cut = 0
                while text_cols(rest[:cut + 1]) <= max_cols:
                    cut += 1
                cut = max(cut, 1)
                lines.append(rest[:cut])
                rest = rest[cut:]
            line = rest.lstrip()
        lines.append(line.rstrip())
    return lines


@dataclass(frozen=True)
class TextPlan:
    """A text block: bbox top-left (x, y), planned cell (column `cw`, height `h`), box width."""

    index: int
    x: int
    y: int
    lines: tuple[str, ...]
    cw: int
    h: int
    box_w: int
    rotation: int
    bold: bool
    align: Align


@dataclass(frozen=True)
class BarcodePlan:
    """A barcode: `data` as sent to the printer, `text` as scanned, `module` and heights in dots."""

    index: int
    x: int
    y: int
    symbology: str
    data: str
    text: str
    module: int
    bar_h: int
    hri: bool
    width: int


@dataclass(frozen=True)
class QrPlan:
    """A QR code of `modules`² modules of `cell` dots each."""

    index: int
    x: int
    y: int
    data: str
    ec: str
    cell: int
    modules: int


@dataclass(frozen=True)
class BoxPlan:
    """A rectangle outline in dots."""

    index: int
    x: int
    y: int
    w: int
    h: int
    t: int


@dataclass(frozen=True)
class BarPlan:
    """A filled rectangle in dots (a line)."""

    index: int
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class ImagePlan:
    """A 1-bit image (mode '1', 0 = black) to place at (x, y)."""

    index: int
    x: int
    y: int
    image: PILImage.Image


Plan = TextPlan | BarcodePlan | QrPlan | BoxPlan | BarPlan | ImagePlan


@dataclass(frozen=True)
class LabelPlan:
    """A document laid out at `dpi`: label size in dots and the elements in order."""

    width: int
    height: int
    dpi: int
    doc: LabelDocument
    items: tuple[Plan, ...]


def line_boxes(p: TextPlan, cw: int, h: int) -> list[tuple[str, int, int, int, int]]:
    """(line, x, y, w, h) of each line's bbox on the label when drawn with cells `cw` × `h`."""
    out = []
    total_h = len(p.lines) * h
    for i, line in enumerate(p.lines):
        w = text_cols(line) * cw
        a = {"left": 0, "center": (p.box_w - w) // 2, "right": p.box_w - w}[p.align]
        a = max(a, 0)
        v = i * h
        if p.rotation == 0:
            box = (p.x + a, p.y + v, w, h)
        elif p.rotation == 90:
            box = (p.x + total_h - v - h, p.y + a, h, w)
        elif p.rotation == 180:
            box = (p.x + p.box_w - a - w, p.y + total_h - v - h, w, h)
        else:
            box = (p.x + v, p.y + p.box_w - a - w, h, w)
        out.append((line, *box))
    return out


def _fmm(d: int, dpi: int) -> str:
    return f"{d * 25.4 / dpi:.1f} mm"


@dataclass(frozen=True)
class _Page:
    lw: int
    lh: int
    doc: LabelDocument
    dpi: int


def _inside(path: str, x: int, y: int, w: int, h: int, page: _Page) -> None:
    if x + w > page.lw:
        raise InvalidInput(path, f"extends past the label's right edge (to "
                                 f"{_fmm(x + w, page.dpi)}, label is {page.doc.width:g} mm wide)")
    if y + h > page.lh:
        raise InvalidInput(path, f"extends past the label's bottom edge (to "
                                 f"{_fmm(y + h, page.dpi)}, label is {page.doc.height:g} mm high)")


def _text(e: Text, i: int, path: str, page: _Page) -> TextPlan:
    dpi, lw, lh = page.dpi, page.lw, page.lh
    x, y = dots(e.x, dpi), dots(e.y, dpi)
    cw = cell_width(e.size, dpi)
    h = 2 * cw
    along = e.rotation in (0, 180)
    room = (lw - x) if along else (lh - y)
    box_w = room if e.width is None else dots(e.width, dpi)
    max_cols = box_w // cw
    lines = wrap(e.text, max_cols) if max_cols > 0 else [e.text]
    widest = max(text_cols(s) for s in e.text.split("\n"))
    if len(lines) > e.lines or max_cols == 0:
        need = _fmm(text_cols(e.text) * cw, dpi) if e.lines == 1 and "\n" not in e.text \
            else f"{len(lines)} lines"
        has = f"{_fmm(box_w, dpi)} wide" if e.lines == 1 \
            else f"{e.lines} lines of {_fmm(box_w, dpi)}"
        raise InvalidInput(path, f"text does not fit its box: needs {need}, box is {has} "
                                 f"({widest} columns at {e.size:g} mm)")
    block_w = box_w if e.width is not None else max(text_cols(s) for s in lines) * cw
    bw, bh = (block_w, len(lines) * h) if along else (len(lines) * h, block_w)
    _inside(path, x, y, bw, bh, page)
    return TextPlan(i, x, y, tuple(lines), cw, h, block_w, e.rotation, e.bold, e.align)


def _image(e: Image, i: int, path: str, page: _Page, budget: Budget) -> ImagePlan:
    # Size, fit and cost come from the PNG header, before anything is decoded.
    from PIL import Image as PILImage
    dpi = page.dpi
    header = budget.charge_image(e.png, f"{path}.png")
    w = max(dots(e.width, dpi), 1)
    h = max(round(header.height * w / header.width), 1)
    _inside(path, dots(e.x, dpi), dots(e.y, dpi), w, h, page)
    budget.charge_rows(h, path)
    try:
        with PILImage.open(io.BytesIO(e.png), formats=["PNG"]) as src:
            src.load()
            if src.mode in ("RGBA", "LA", "PA") or "transparency" in src.info:
                rgba = src.convert("RGBA")
                white = PILImage.new("RGBA", rgba.size, (255, 255, 255, 255))
                grey = PILImage.alpha_composite(white, rgba).convert("L")
                del rgba, white
            else:  # opaque: the same grey as composited over white, without the RGBA copies
                grey = src.convert("L")
    except Exception:  # Pillow raises many types on corrupt data; all mean "bad image"
        raise InvalidInput(f"{path}.png", "is not a readable PNG image") from None
    grey = grey.resize((w, h), PILImage.Resampling.LANCZOS)
    if e.dither:
        mono = grey.convert("1")
    else:
        mono = grey.point(lambda v: 255 if v >= 128 else 0).convert(
            "1", dither=PILImage.Dither.NONE)
    return ImagePlan(i, dots(e.x, dpi), dots(e.y, dpi), mono)


def layout(doc: LabelDocument, dpi: int, max_width: int | None = None,
           path: str = "document", budget: Budget | None = None) -> LabelPlan:
    """Lay `doc` out at `dpi`; InvalidInput names the element (`path.elements[i]`) not fitting,
    JobTooLarge the one taking the label over its `budget` (print_budget)."""
    budget = budget or label_budget()
    if doc.dpi is not None and doc.dpi != dpi:
        raise InvalidInput(f"{path}.dpi", f"the label is made for {doc.dpi} dpi, "
                                          f"the printer prints {dpi} dpi")
    lw, lh = dots(doc.width, dpi), dots(doc.height, dpi)
    if max_width is not None and lw > max_width:
        raise InvalidInput(f"{path}.width", f"the label is {doc.width:g} mm wide, the printer "
                                            f"prints at most {_fmm(max_width, dpi)}")
    page = _Page(lw, lh, doc, dpi)
    items: list[Plan] = []
    for i, e in enumerate(doc.elements):
        p = f"{path}.elements[{i}]"
        x, y = dots(e.x, dpi), dots(e.y, dpi)
        if isinstance(e, Text):
            items.append(_text(e, i, p, page))
        elif isinstance(e, Barcode):
            module = max(dots(e.module, dpi), 1)
            width = len(barcode_pattern(e.symbology, e.data)) * module
            bar_h = max(dots(e.height, dpi), 1)
            _inside(p, x, y, width, bar_h + (hri_height(dpi) if e.hri else 0), page)
            items.append(BarcodePlan(i, x, y, e.symbology, printer_data(e.symbology, e.data),
                                     scan_text(e.symbology, e.data), module, bar_h, e.hri, width))
        elif isinstance(e, QR):
            modules = len(qr_matrix(e.data, e.ec))
            cell = min(dots(e.size, dpi) // modules, 10)
            least = max(round(MIN_QR_MODULE_MM * dpi / 25.4), 2)
            if cell < least:
                raise InvalidInput(p, f"QR code of {modules}×{modules} modules needs at least "
                                      f"{_fmm(modules * least, dpi)}, size is {e.size:g} mm")
            _inside(p, x, y, modules * cell, modules * cell, page)
            items.append(QrPlan(i, x, y, e.data, e.ec, cell, modules))
        elif isinstance(e, Box):
            w, h, t = dots(e.width, dpi), dots(e.height, dpi), max(dots(e.thickness, dpi), 1)
            _inside(p, x, y, w, h, page)
            items.append(BoxPlan(i, x, y, max(w, 1), max(h, 1), t))
        elif isinstance(e, Line):
            t = max(dots(e.thickness, dpi), 1)
            x0, y0 = min(x, dots(e.x2, dpi)), min(y, dots(e.y2, dpi))
            w = abs(dots(e.x2, dpi) - x) or t
            h = abs(dots(e.y2, dpi) - y) or t
            _inside(p, x0, y0, w, h, page)
            items.append(BarPlan(i, x0, y0, w, h))
        else:
            items.append(_image(e, i, p, page, budget))
        budget.check_time(p)
    return LabelPlan(lw, lh, dpi, doc, tuple(items))
