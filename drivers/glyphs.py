"""Rasterize text into 1-bit bitmaps on a fixed cell grid, so raster and native text align."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers.fonts import cjk_font

CELL_W = 12  # dots per column of font A (a Han character takes two)
CELL_H = 24


def text_bitmap(text: str, widths: Sequence[int], *, cell_w: int = CELL_W, cell_h: int = CELL_H,
                bold: bool = False, underline: bool = False) -> Image.Image:
    """Draw `text` one character per cell run (`widths[i]` columns each) into a mode-'1' image.

    Black ink is 0, paper is 1 (PIL's convention); size is (sum(widths)*cell_w, cell_h).
    """
    from PIL import Image, ImageDraw
    if len(widths) != len(text):
        raise ValueError("one width per character")
    total = sum(widths) * cell_w
    img = Image.new("1", (max(total, 1), cell_h), 1)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    font = cjk_font(max(cell_h - 2, 8))
    # Centre a Han glyph's ink box in the cell; descenders and '_' then stay inside it too.
    _, han_top, _, han_bottom = font.getbbox("中")
    gy = (cell_h - (han_bottom - han_top)) // 2 - han_top
    x = 0
    for ch, w in zip(text, widths, strict=True):
        box_w = w * cell_w
        if w and not ch.isspace():
            left, _top, right, _bottom = font.getbbox(ch)
            gw = right - left
            gx = x + max((box_w - gw) // 2, 0) - left
            draw.text((gx, gy), ch, font=font, fill=0)
            if bold:
                draw.text((gx + 1, gy), ch, font=font, fill=0)
        x += box_w
    if underline:
        draw.line([(0, cell_h - 2), (total, cell_h - 2)], fill=0, width=2)
    return img


def scale(img: Image.Image, mw: int, mh: int) -> Image.Image:
    """Enlarge a 1-bit image by integer factors without blurring."""
    from PIL import Image
    if mw == 1 and mh == 1:
        return img
    return img.resize((img.width * mw, img.height * mh), Image.Resampling.NEAREST)


def pack_bits(img: Image.Image) -> tuple[int, int, bytes]:
    """Pack a 1-bit image MSB-first with 1 = black dot; return (bytes per row, rows, data)."""
    from PIL import Image
    mono = img.convert("1")
    width_bytes = (mono.width + 7) // 8
    padded = Image.new("1", (width_bytes * 8, mono.height), 1)
    padded.paste(mono, (0, 0))
    # PIL packs mode '1' MSB-first with 1 = white; invert so that 1 = black as printers expect.
    raw = padded.tobytes()
    return width_bytes, mono.height, bytes(b ^ 0xFF for b in raw)


def unpack_bits(width_bytes: int, rows: int, data: bytes, width: int | None = None) -> Image.Image:
    """Inverse of pack_bits: MSB-first bytes with 1 = black into a mode-'1' image."""
    from PIL import Image
    img = Image.frombytes("1", (width_bytes * 8, rows), bytes(b ^ 0xFF for b in data))
    if width is not None and width < width_bytes * 8:
        img = img.crop((0, 0, width, rows))
    return img
