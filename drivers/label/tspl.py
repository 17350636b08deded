"""TSPL encoder: a label document to the bytes of one TSPL job (pure)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers import InvalidInput
from drivers.glyphs import pack_bits
from drivers.label.document import LabelDocument
from drivers.label.layout import (
    BarcodePlan,
    BarPlan,
    BoxPlan,
    ImagePlan,
    QrPlan,
    TextPlan,
    layout,
    line_boxes,
)
from drivers.label.raster import bold_step, embolden, line_image, rotate
from drivers.print_budget import Budget, label_budget
from drivers.profiles import PrinterProfile

__all__ = ["BASE_CELL", "FONT_NAME", "TSPL_SYMBOLOGY", "encode_tspl", "font_codec", "quote"]

BASE_CELL = (12, 24)  # TSS24.BF2 / TST24.BF2: 24×24 dots per Han character, 12×24 per ASCII
TSPL_SYMBOLOGY = {"CODE128": "128", "EAN13": "EAN13", "CODE39": "39S"}
CRLF = b"\r\n"
FONT_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,32}$")


def font_codec(font: str) -> str:
    """The byte encoding of a resident Chinese font: Big5 for TST* (Traditional), else GB2312."""
    return "big5" if font.upper().startswith("TST") else "gb2312"


def quote(data: bytes, path: str = "text") -> bytes:
    """A TSPL string literal: `"` inside is written `\\["]`; a control byte (CR, LF, …) would end
    the command line early, so it is refused (InvalidInput at `path`), never sent."""
    for b in data:
        if b < 0x20 or b == 0x7F:
            raise InvalidInput(path, f"contains the control character U+{b:04X}, which a TSPL "
                                     "string cannot carry")
    return b'"' + data.replace(b'"', b'\\["]') + b'"'


def _native(p: TextPlan, font: str) -> bool:
    if not font or p.h < BASE_CELL[1]:
        return False
    try:
        for line in p.lines:
            line.encode(font_codec(font))
    except UnicodeEncodeError:
        return False
    return True


def _bitmap(x: int, y: int, img: Image.Image) -> bytes:
    width_bytes, rows, data = pack_bits(img)
    # TSPL BITMAP prints 0 bits (TSC's own raster filter inverts CUPS data before sending).
    head = f"BITMAP {x},{y},{width_bytes},{rows},1,".encode("ascii")
    return head + bytes(b ^ 0xFF for b in data) + CRLF


def _text(p: TextPlan, font: str, path: str, budget: Budget) -> list[bytes]:
    out = []
    dx, dy = bold_step(p.rotation)
    if _native(p, font):
        mul = p.h // BASE_CELL[1]
        cw, h = BASE_CELL[0] * mul, BASE_CELL[1] * mul
        for line, x, y, w, hh in line_boxes(p, cw, h):
            if not line:
                continue
            # TSPL rotates text about its reference point, the unrotated text's top-left.
            rx, ry = {0: (x, y), 90: (x + w, y), 180: (x + w, y + hh), 270: (x, y + hh)}[p.rotation]
            content = quote(line.encode(font_codec(font)), path)
            for sx, sy in ((0, 0), (dx, dy)) if p.bold else ((0, 0),):
                head = f'TEXT {rx + sx},{ry + sy},"{font}",{p.rotation},{mul},{mul},'
                out.append(head.encode("ascii") + content + CRLF)
        return out
    for line, x, y, _, _ in line_boxes(p, p.cw, p.h):
        if not line:
            continue
        img = line_image(line, p.cw, p.h)
        if p.bold:
            img = embolden(img)
        img = rotate(img, p.rotation)
        budget.charge_rows(img.height, path)
        out.append(_bitmap(x + min(dx, 0) * p.bold, y + min(dy, 0) * p.bold, img))
    return out


def _mm(v: float) -> str:
    return f"{v:g}"


def encode_tspl(label: LabelDocument, profile: PrinterProfile, path: str = "document",
                budget: Budget | None = None) -> bytes:
    """The TSPL job printing `label` on `profile`; InvalidInput names what does not fit,
    JobTooLarge what takes it over its `budget`."""
    if profile.language != "tspl":
        raise InvalidInput("profile", f"{profile.name} speaks {profile.language}, not TSPL")
    font = profile.label_cjk_font
    if font and not FONT_NAME.match(font):
        raise InvalidInput("profile.label_cjk_font", "must be 1-32 of A-Z a-z 0-9 . _ : -")
    budget = budget or label_budget()
    plan = layout(label, profile.dpi, profile.paper_dots, path, budget)
    media = {"gap": f"GAP {_mm(label.gap)} mm,0 mm", "mark": f"BLINE {_mm(label.gap)} mm,0 mm",
             "continuous": "GAP 0,0"}[label.media]
    head = [f"SIZE {_mm(label.width)} mm,{_mm(label.height)} mm", media,
            f"DIRECTION {label.direction}", "REFERENCE 0,0", "CLS"]
    out = [h.encode("ascii") + CRLF for h in head]
    for item in plan.items:
        at = f"{path}.elements[{item.index}]"
        if isinstance(item, TextPlan):
            out.extend(_text(item, font, at, budget))
        elif isinstance(item, BarcodePlan):
            wide = 3 * item.module if item.symbology == "CODE39" else item.module
            cmd = (f'BARCODE {item.x},{item.y},"{TSPL_SYMBOLOGY[item.symbology]}",{item.bar_h},'
                   f"{int(item.hri)},0,{item.module},{wide},")
            out.append(cmd.encode("ascii") + quote(item.data.encode("ascii"), at) + CRLF)
        elif isinstance(item, QrPlan):
            cmd = f"QRCODE {item.x},{item.y},{item.ec},{item.cell},A,0,"
            out.append(cmd.encode("ascii") + quote(item.data.encode("utf-8"), at) + CRLF)
        elif isinstance(item, BoxPlan):
            out.append(f"BOX {item.x},{item.y},{item.x + item.w},{item.y + item.h},{item.t}"
                       .encode("ascii") + CRLF)
        elif isinstance(item, BarPlan):
            out.append(f"BAR {item.x},{item.y},{item.w},{item.h}".encode("ascii") + CRLF)
        elif isinstance(item, ImagePlan):
            out.append(_bitmap(item.x, item.y, item.image))
        budget.check_time(at)
    out.append(f"PRINT 1,{label.copies}".encode("ascii") + CRLF)
    return b"".join(out)
