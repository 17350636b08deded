"""ZPL II encoder: a label document to the bytes of one ZPL format (pure)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers import InvalidInput
from drivers.glyphs import pack_bits
from drivers.label.document import LabelDocument
from drivers.label.graphic_field import compress_rows
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

__all__ = ["CJK_FONT_ID", "FONT_NAME", "ORIENTATION", "encode_zpl", "field_data"]

CJK_FONT_ID = "1"  # ^CW alias for the profile's CJK font; digits are free of built-in fonts
ORIENTATION = {0: "N", 90: "R", 180: "I", 270: "B"}
FONT_NAME = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ESCAPED = re.compile(r"[_^~\x00-\x1f\x7f]")


def field_data(text: str) -> str:
    """`^FH^FD…^FS` content: `^`, `~`, the hex indicator `_` and control characters (a printer
    drops CR and LF) escaped as `_XX`, so nothing in it can start a command."""
    return _ESCAPED.sub(lambda m: f"_{ord(m.group()):02X}", text)


def _graphic(x: int, y: int, img: Image.Image) -> str:
    width_bytes, rows, data = pack_bits(img)
    total = width_bytes * rows
    return f"^FO{x},{y}^GFA,{total},{total},{width_bytes},{compress_rows(data, width_bytes)}^FS"


def _text(p: TextPlan, native: bool, path: str, budget: Budget) -> list[str]:
    out = []
    dx, dy = bold_step(p.rotation)
    for line, x, y, _, _ in line_boxes(p, p.cw, p.h):
        if not line:
            continue
        if native:
            # ^FO is the field's top-left corner whatever its orientation.
            for sx, sy in ((0, 0), (dx, dy)) if p.bold else ((0, 0),):
                out.append(f"^FO{x + sx},{y + sy}^A{CJK_FONT_ID}{ORIENTATION[p.rotation]},"
                           f"{p.h},{p.h}^FH^FD{field_data(line)}^FS")
            continue
        img = line_image(line, p.cw, p.h)
        if p.bold:
            img = embolden(img)
        img = rotate(img, p.rotation)
        budget.charge_rows(img.height, path)
        out.append(_graphic(x + min(dx, 0) * p.bold, y + min(dy, 0) * p.bold, img))
    return out


def encode_zpl(label: LabelDocument, profile: PrinterProfile, path: str = "document",
               budget: Budget | None = None) -> bytes:
    """The ZPL format printing `label` on `profile`; InvalidInput names what does not fit,
    JobTooLarge what takes it over its `budget`."""
    if profile.language != "zpl":
        raise InvalidInput("profile", f"{profile.name} speaks {profile.language}, not ZPL")
    if profile.label_cjk_font and not FONT_NAME.match(profile.label_cjk_font):
        raise InvalidInput("profile.label_cjk_font", "must be 1-64 of A-Z a-z 0-9 . _ : -")
    budget = budget or label_budget()
    plan = layout(label, profile.dpi, profile.paper_dots, path, budget)
    native = bool(profile.label_cjk_font)
    media = {"gap": "Y", "mark": "M", "continuous": "N"}[label.media]
    out = ["^XA", "^CI28", f"^PW{plan.width}", f"^LL{plan.height}", "^LH0,0",
           "^POI" if label.direction else "^PON", f"^MN{media}"]
    if native:
        out.append(f"^CW{CJK_FONT_ID},{profile.label_cjk_font}")
    for item in plan.items:
        at = f"{path}.elements[{item.index}]"
        if isinstance(item, TextPlan):
            out.extend(_text(item, native, at, budget))
        elif isinstance(item, BarcodePlan):
            hri = "Y" if item.hri else "N"
            if item.symbology == "CODE128":
                sym = f"^BCN,{item.bar_h},{hri},N,N,A"
            elif item.symbology == "EAN13":
                sym = f"^BEN,{item.bar_h},{hri},N"
            else:
                sym = f"^B3N,N,{item.bar_h},{hri},N"
            out.append(f"^BY{item.module},3^FO{item.x},{item.y}{sym}"
                       f"^FH^FD{field_data(item.data)}^FS")
        elif isinstance(item, QrPlan):
            out.append(f"^FO{item.x},{item.y}^BQN,2,{item.cell}"
                       f"^FH^FD{item.ec}A,{field_data(item.data)}^FS")
        elif isinstance(item, BoxPlan):
            out.append(f"^FO{item.x},{item.y}^GB{item.w},{item.h},{item.t}^FS")
        elif isinstance(item, BarPlan):
            out.append(f"^FO{item.x},{item.y}^GB{item.w},{item.h},{min(item.w, item.h)}^FS")
        elif isinstance(item, ImagePlan):
            out.append(_graphic(item.x, item.y, item.image))
        budget.check_time(at)
    out += [f"^PQ{label.copies}", "^XZ"]
    return ("\n".join(out) + "\n").encode("utf-8")
