"""Locate a CJK TrueType font for raster text, previews and label bitmaps."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageFont

from drivers import DriverError

# (path, face index): WenQuanYi Zen Hei Sharp carries hand-tuned bitmaps that stay crisp at 1 bit.
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
ENV_VAR = "STORELINK_CJK_FONT"


class FontMissingError(DriverError):
    """No CJK font is installed or the configured one cannot be read."""


def find_cjk_font() -> tuple[str, int]:
    """Return (path, face index) of the CJK font: $STORELINK_CJK_FONT first, then known paths."""
    env = os.environ.get(ENV_VAR)
    if env:
        path, _, idx = env.partition("#")
        if not Path(path).is_file():
            raise FontMissingError(f"{ENV_VAR}={env}: no such file")
        return path, int(idx or 0)
    for candidate, face in CANDIDATES:
        if Path(candidate).is_file():
            return candidate, face
    raise FontMissingError("no CJK font found: install fonts-wqy-zenhei (apt-get install "
                      f"fonts-wqy-zenhei) or set {ENV_VAR}=/path/to/font.ttc#index")


@lru_cache(maxsize=32)
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    """The CJK font at `size` pixels (cached)."""
    from PIL import ImageFont
    path, idx = find_cjk_font()
    try:
        return ImageFont.truetype(path, size, index=idx)
    except OSError as e:
        raise FontMissingError(f"{path}: {e}") from None
