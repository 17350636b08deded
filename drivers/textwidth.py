"""Display width of text: a Han character or full-width form takes two columns."""

from __future__ import annotations

import unicodedata


def char_columns(ch: str) -> int:
    """Columns `ch` takes on a receipt when printed as an image or in UTF-8 mode (0, 1 or 2)."""
    if unicodedata.combining(ch) or ch in "\u200b\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_columns(text: str) -> int:
    """Sum of char_columns over `text`."""
    return sum(char_columns(c) for c in text)
