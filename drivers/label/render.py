"""Render interpreted labels to images at the printer's dpi (previews and simulator output)."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers.glyphs import scale, text_bitmap, unpack_bits
from drivers.label.document import LabelDocument
from drivers.label.drawing import (
    DrawBar,
    DrawBarcode,
    DrawBitmap,
    DrawBox,
    Drawing,
    DrawQR,
    DrawText,
    ParsedLabel,
)
from drivers.label.interpret import encode_label, interpret
from drivers.label.raster import rotate
from drivers.label.symbols import barcode_pattern, qr_matrix, scan_text
from drivers.profiles import PrinterProfile

__all__ = ["MAX_SIDE", "preview", "preview_png", "render_label", "to_png"]

MAX_SIDE = 8000
WHITE, BLACK = 255, 0


def _ink(canvas: Image.Image, img: Image.Image, x: int, y: int) -> None:
    """Paint the black dots of mode-'1' `img` (0 = ink) at (x, y); white leaves the label alone."""
    from PIL import ImageOps
    canvas.paste(BLACK, (x, y), ImageOps.invert(img.convert("L")))


def _place(canvas: Image.Image, img: Image.Image, x: int, y: int, rotation: int,
           pivot: bool) -> None:
    turned = rotate(img, rotation)
    if pivot:  # TSPL: the element turns about its unrotated top-left corner
        dx, dy = {0: (0, 0), 90: (-img.height, 0), 180: (-img.width, -img.height),
                  270: (0, -img.width)}[rotation]
        x, y = x + dx, y + dy
    _ink(canvas, turned, x, y)


def _text(e: DrawText) -> Image.Image:
    from PIL import ImageDraw
    width, keep = 0, 0
    for w in e.widths:  # what lies beyond the largest label is never seen: don't draw it
        width += w * e.cell_w * e.mul_x
        if width > MAX_SIDE:
            break
        keep += 1
    e = replace(e, text=e.text[:keep], widths=e.widths[:keep])
    if e.glyphs:
        img = text_bitmap(e.text, e.widths, cell_w=e.cell_w, cell_h=e.cell_h)
    else:  # the printer has no glyph for these: an empty box, as printers draw
        shown = "".join(c if c.isascii() else " " for c in e.text)
        img = text_bitmap(shown, e.widths, cell_w=e.cell_w, cell_h=e.cell_h)
        draw = ImageDraw.Draw(img)
        x = 0
        for ch, w in zip(e.text, e.widths, strict=True):
            if not ch.isascii() and w:
                draw.rectangle((x + 2, 2, x + w * e.cell_w - 3, e.cell_h - 3), outline=0)
            x += w * e.cell_w
    return scale(img, e.mul_x, e.mul_y)


def _barcode(e: DrawBarcode) -> Image.Image:
    from PIL import Image, ImageDraw
    pattern = barcode_pattern(e.symbology, e.data)
    width = len(pattern) * e.module
    img = Image.new("1", (width, e.height + (e.hri_h if e.hri else 0)), 1)
    draw = ImageDraw.Draw(img)
    for i, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle((i * e.module, 0, (i + 1) * e.module - 1, e.height - 1), fill=0)
    if e.hri:
        text = scan_text(e.symbology, e.data)
        digits = text_bitmap(text, [1] * len(text), cell_w=max(e.hri_h // 2, 1), cell_h=e.hri_h)
        img.paste(digits, ((width - digits.width) // 2, e.height))
    return img


def _qr(e: DrawQR) -> Image.Image:
    from PIL import Image
    matrix = qr_matrix(e.data, e.ec)
    n = len(matrix)
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small.resize((n * e.cell, n * e.cell), Image.Resampling.NEAREST)


def _draw(canvas: Image.Image, e: Drawing) -> None:
    from PIL import ImageDraw, ImageOps
    draw = ImageDraw.Draw(canvas)
    if isinstance(e, DrawText):
        if e.text and e.widths[0] * e.cell_w * e.mul_x <= MAX_SIDE:
            _place(canvas, _text(e), e.x, e.y, e.rotation, e.pivot)
    elif isinstance(e, DrawBarcode):
        _place(canvas, _barcode(e), e.x, e.y, e.rotation, e.pivot)
    elif isinstance(e, DrawQR):
        _place(canvas, _qr(e), e.x, e.y, e.rotation, e.pivot)
    elif isinstance(e, DrawBox):
        w, h, t = min(e.w, MAX_SIDE), min(e.h, MAX_SIDE), e.thickness
        if w <= 0 or h <= 0:
            return
        if 2 * t >= min(w, h):
            draw.rectangle((e.x, e.y, e.x + w - 1, e.y + h - 1), fill=BLACK)
            return
        for box in ((e.x, e.y, e.x + w - 1, e.y + t - 1),
                    (e.x, e.y + h - t, e.x + w - 1, e.y + h - 1),
                    (e.x, e.y, e.x + t - 1, e.y + h - 1),
                    (e.x + w - t, e.y, e.x + w - 1, e.y + h - 1)):
            draw.rectangle(box, fill=BLACK)
    elif isinstance(e, DrawBar):
        if e.w > 0 and e.h > 0:
            draw.rectangle((e.x, e.y, e.x + min(e.w, MAX_SIDE) - 1,
                            e.y + min(e.h, MAX_SIDE) - 1), fill=BLACK)
    elif isinstance(e, DrawBitmap):
        img = unpack_bits(e.width_bytes, e.rows, e.data)
        if e.mode == "overwrite":
            canvas.paste(img.convert("L"), (e.x, e.y))
        elif e.mode == "xor":
            region = canvas.crop((e.x, e.y, e.x + img.width, e.y + img.height))
            ink = ImageOps.invert(img.convert("L"))
            canvas.paste(ImageOps.invert(region), (e.x, e.y), ink)
        else:
            _ink(canvas, img, e.x, e.y)


def render_label(label: ParsedLabel) -> Image.Image:
    """The label as printed: mode 'L', white paper, black dots, one pixel per printer dot."""
    from PIL import Image
    size = (min(max(label.width, 1), MAX_SIDE), min(max(label.height, 1), MAX_SIDE))
    canvas = Image.new("L", size, WHITE)
    for element in label.elements:
        _draw(canvas, element)
    return canvas


def to_png(img: Image.Image) -> bytes:
    """PNG bytes of an image."""
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def preview(label: LabelDocument, profile: PrinterProfile) -> list[Image.Image]:
    """What `profile`'s printer would print for `label`: encode, interpret, render (one image)."""
    return [render_label(p) for p in interpret(encode_label(label, profile), profile)]


def preview_png(label: LabelDocument, profile: PrinterProfile) -> bytes:
    """PNG of the first label `label` prints on `profile`."""
    return to_png(preview(label, profile)[0])
