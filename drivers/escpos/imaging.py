"""1-bit raster images for ESC/POS: PNG decoding, text lines, alignment and `GS v 0` chunks."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers import InvalidInput
from drivers.escpos.document import Align
from drivers.glyphs import CELL_H, pack_bits, scale, text_bitmap

GS_V0 = b"\x1dv0\x00"
MAX_IMAGE_ROWS = 8000  # one metre of paper at 203 dpi; more is a mistake, not a receipt


def load_png(png: bytes, paper_dots: int, dither: bool, path: str) -> Image.Image:
    """Decode a PNG into a mode-'1' image (transparent = paper); InvalidInput at `path` if it is
    not a readable PNG or is wider than the paper."""
    from PIL import Image
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as im:
            w, h = im.size
            if w > paper_dots:
                raise InvalidInput(path, f"image is {w} dots wide, paper is {paper_dots}")
            if h > MAX_IMAGE_ROWS:
                raise InvalidInput(path, f"image is {h} dots tall, at most {MAX_IMAGE_ROWS}")
            im.load()
            gray = _flatten(im)
    except InvalidInput:
        raise
    except Exception as e:  # Pillow raises many types on corrupt data; all mean "bad image"
        raise InvalidInput(path, f"is not a readable PNG image ({type(e).__name__})") from None
    if dither:
        return gray.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
    return gray.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)


def _flatten(im: Image.Image) -> Image.Image:
    """Grayscale over white paper."""
    from PIL import Image
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        im = im.point(lambda v: v / 256).convert("L") if im.mode != "F" else im.convert("L")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info) \
            or (im.mode in ("L", "RGB") and "transparency" in im.info):
        rgba = im.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return im.convert("L")


def place(img: Image.Image, align: Align, paper_dots: int) -> Image.Image:
    """Shift a 1-bit image right by white padding so it sits `align`ed on the paper."""
    from PIL import Image
    room = paper_dots - img.width
    offset = 0 if align == "left" or room <= 0 else room // 2 if align == "center" else room
    if offset == 0:
        return img
    out = Image.new("1", (img.width + offset, img.height), 1)
    out.paste(img, (offset, 0))
    return out


def stack(images: Sequence[Image.Image]) -> Image.Image:
    """Images one below the other, left-aligned, on white."""
    from PIL import Image
    if len(images) == 1:
        return images[0]
    out = Image.new("1", (max(i.width for i in images), sum(i.height for i in images)), 1)
    y = 0
    for i in images:
        out.paste(i, (0, y))
        y += i.height
    return out


def text_line_image(text: str, widths: Sequence[int], *, cell_w: int, bold: bool,
                    underline: bool, mw: int, mh: int, line_h: int) -> Image.Image:
    """One text line drawn like the printer would: glyph cells, size multipliers, and white rows
    below up to the native line advance `line_h` (so raster and native lines advance alike)."""
    from PIL import Image
    img = scale(text_bitmap(text, widths, cell_w=cell_w, cell_h=CELL_H, bold=bold,
                            underline=underline), mw, mh)
    if img.height >= line_h:
        return img
    out = Image.new("1", (img.width, line_h), 1)
    out.paste(img, (0, 0))
    return out


def raster_commands(img: Image.Image, chunk_rows: int) -> list[bytes]:
    """`GS v 0` commands of at most `chunk_rows` rows each covering `img` (MSB first, 1 = black)."""
    width_bytes, rows, data = pack_bits(img)
    out = []
    for top in range(0, rows, chunk_rows):
        n = min(chunk_rows, rows - top)
        out.append(GS_V0 + width_bytes.to_bytes(2, "little") + n.to_bytes(2, "little")
                   + data[top * width_bytes:(top + n) * width_bytes])
    return out
