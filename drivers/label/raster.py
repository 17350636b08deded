"""Rasterize label text lines with the CJK font on the column grid, and rotate 1-bit images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

from drivers.glyphs import text_bitmap
from drivers.label.layout import char_cols

__all__ = ["bold_step", "embolden", "line_image", "rotate"]


def embolden(img: Image.Image, along: tuple[int, int] = (1, 0)) -> Image.Image:
    """Double-strike a mode-'1' image shifted one dot `along`; the same as printing twice."""
    from PIL import Image, ImageChops
    dx, dy = along
    out = Image.new("1", (img.width + abs(dx), img.height + abs(dy)), 1)
    out.paste(img, (max(-dx, 0), max(-dy, 0)))
    shifted = Image.new("1", out.size, 1)
    shifted.paste(img, (max(dx, 0), max(dy, 0)))
    return ImageChops.logical_and(out, shifted)  # 0 is ink: AND of white keeps both strikes


def line_image(text: str, cw: int, h: int, widths: Sequence[int] | None = None) -> Image.Image:
    """One line of text (mode '1', 0 = ink) on cells `cw` wide per column and `h` high."""
    cols = list(widths) if widths is not None else [char_cols(c) for c in text]
    return text_bitmap(text, cols, cell_w=cw, cell_h=h)


def rotate(img: Image.Image, rotation: int) -> Image.Image:
    """Rotate clockwise by 0, 90, 180 or 270 degrees."""
    from PIL import Image
    if rotation == 90:
        return img.transpose(Image.Transpose.ROTATE_270)
    if rotation == 180:
        return img.transpose(Image.Transpose.ROTATE_180)
    if rotation == 270:
        return img.transpose(Image.Transpose.ROTATE_90)
    return img


def bold_step(rotation: int) -> tuple[int, int]:
    """Label-space offset of a bold second strike: one dot along the reading direction."""
    return {0: (1, 0), 90: (0, 1), 180: (-1, 0), 270: (0, -1)}[rotation]
