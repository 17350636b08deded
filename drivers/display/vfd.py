"""Encoder for 2×20 customer displays (VFD / LCD) with the ESC/POS display command set.

Chinese models take GB2312/GB18030 double-byte text: a Han character fills two of the twenty
cells, so widths here are counted in encoded bytes (which also makes full-width and
ambiguous-width characters such as ×, ·, ￥ two cells, as the display draws them).
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from drivers import InvalidInput

COLUMNS = 20
ROWS = 2
ESC = 0x1B
US = 0x1F
FF = 0x0C
Align = Literal["left", "right", "center"]
DEFAULT_ENCODING = "gb18030"
# Characters a Chinese font has in another form: the half-width yen sign is 4 bytes in
# GB18030 (not in GB2312), the full-width one is a GB2312 character.
_SUBSTITUTES = {"¥": "￥", "\u00a0": " "}


def init() -> bytes:
    """ESC @ (1B 40): reset the display and clear it."""
    return bytes([ESC, 0x40])


def clear() -> bytes:
    """FF (0C): clear both lines, cursor to the top left."""
    return bytes([FF])


def overwrite_mode() -> bytes:
    """US 1 (1F 01): characters overwrite in place; no scrolling."""
    return bytes([US, 0x01])


def vertical_scroll_mode() -> bytes:
    """US 2 (1F 02): writing past the lower line scrolls the upper line away."""
    return bytes([US, 0x02])


def move_cursor(column: int, row: int) -> bytes:
    """US $ x y (1F 24 x y): cursor to `column` 1-20 of `row` 1-2."""
    if not 1 <= column <= COLUMNS:
        raise InvalidInput("column", f"{column} is not 1-{COLUMNS}")
    if not 1 <= row <= ROWS:
        raise InvalidInput("row", f"{row} is not 1-{ROWS}")
    return bytes([US, 0x24, column, row])


def cursor_visible(visible: bool) -> bytes:
    """US C n (1F 43 n): show (1) or hide (0) the cursor."""
    return bytes([US, 0x43, 1 if visible else 0])


def brightness(level: int) -> bytes:
    """US X n (1F 58 n): brightness 1 (dim) to 4 (brightest)."""
    if not 1 <= level <= 4:
        raise InvalidInput("brightness", f"{level} is not 1-4")
    return bytes([US, 0x58, level])


def setup() -> bytes:
    """Reset, overwrite mode, cursor hidden, cleared: the state show_lines assumes."""
    return init() + overwrite_mode() + cursor_visible(False) + clear()


def encode_char(ch: str, encoding: str = DEFAULT_ENCODING) -> bytes:
    """One character as the display takes it: 1 or 2 bytes; controls and the undrawable -> "?"."""
    ch = _SUBSTITUTES.get(ch, ch)
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return b"?"  # never let text smuggle in a command byte
    try:
        data = ch.encode(encoding)
    except UnicodeEncodeError:
        return b"?"
    except LookupError:
        raise InvalidInput("encoding", f"unknown encoding {encoding!r}") from None
    return data if len(data) <= 2 else b"?"


def columns(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    """Display cells `text` takes: one per single-byte, two per double-byte character."""
    return sum(len(encode_char(ch, encoding)) for ch in text)


def fit(
    text: str, width: int = COLUMNS, align: Align = "left", encoding: str = DEFAULT_ENCODING
) -> bytes:
    """`text` encoded and cut or padded with spaces to exactly `width` cells.

    A double-byte character that would straddle the edge is left out, not split.
    """
    if align not in ("left", "right", "center"):
        raise InvalidInput("align", f"{align!r} is not left, right or center")
    if width < 0:
        raise InvalidInput("width", "must not be negative")
    body = bytearray()
    for ch in text:
        data = encode_char(ch, encoding)
        if len(body) + len(data) > width:
            break
        body += data
    gap = width - len(body)
    left = {"left": 0, "right": gap, "center": gap // 2}[align]
    return b" " * left + bytes(body) + b" " * (gap - left)


def label_value(
    label: str, value: str, width: int = COLUMNS, encoding: str = DEFAULT_ENCODING
) -> str:
    """`label` at the left and `value` at the right of one line: ("合计", "¥12.50")."""
    room = width - columns(value, encoding) - 1
    kept = ""
    for ch in label:
        if columns(kept + ch, encoding) > room:
            break
        kept += ch
    spaces = width - columns(kept, encoding) - columns(value, encoding)
    return kept + " " * max(spaces, 0) + value


def show_lines(
    upper: str,
    lower: str = "",
    *,
    align: tuple[Align, Align] = ("left", "left"),
    encoding: str = DEFAULT_ENCODING,
) -> bytes:
    """Both lines written in full (padded to 20 cells), so no clear and no flicker is needed."""
    return (
        move_cursor(1, 1)
        + fit(upper, COLUMNS, align[0], encoding)
        + move_cursor(1, 2)
        + fit(lower, COLUMNS, align[1], encoding)
    )
