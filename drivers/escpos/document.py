"""Receipt documents: typed blocks parsed from JSON, with errors naming the dotted field."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from drivers import InvalidInput
from drivers.json_fields import boolean as _bool
from drivers.json_fields import integer as _int
from drivers.json_fields import obj as _obj
from drivers.json_fields import only as _only
from drivers.print_budget import document_budget, png_header

Align = Literal["left", "center", "right"]
ALIGNS: tuple[Align, ...] = ("left", "center", "right")
BARCODE_TYPES = ("CODE128", "EAN13", "EAN8", "CODE39", "ITF", "UPC-A")
QR_LEVELS = ("L", "M", "Q", "H")
HRI_POSITIONS = ("none", "above", "below", "both")
DEFAULT_MODULE = 2  # dots per barcode module when the document gives none (and it fits)


@dataclass(frozen=True)
class Text:
    """A paragraph; wraps at the paper width, counting a Han character as two columns."""

    text: str
    align: Align = "left"
    bold: bool = False
    underline: bool = False
    width: int = 1
    height: int = 1


@dataclass(frozen=True)
class Cell:
    """One column of a `Columns` row; `width` in columns, None takes what is left."""

    text: str
    width: int | None = None
    align: Align = "left"


@dataclass(frozen=True)
class Columns:
    """A row of cells; each cell's text wraps inside its own width."""

    cells: tuple[Cell, ...]
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line of `char` across the paper."""

    char: str = "-"


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Barcode:
    """A 1-D barcode; `data` already validated for its symbology (EAN check digits included);
    `module` None takes the widest up to DEFAULT_MODULE that fits the paper."""

    type: str
    data: str
    height: int = 80
    module: int | None = None
    hri: str = "below"
    align: Align = "center"


@dataclass(frozen=True)
class QR:
    """A QR code; `size` is the module size in dots."""

    data: str
    size: int = 6
    ec: str = "M"
    align: Align = "center"


@dataclass(frozen=True)
class Image:
    """A PNG image, dithered (or thresholded) to 1 bit at print time."""

    png: bytes
    align: Align = "center"
    dither: bool = True


@dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut."""

    mode: Literal["full", "partial"] = "partial"
    feed: int = 4


@dataclass(frozen=True)
class Drawer:
    """Kick the cash drawer on connector pin 2 or 5; None takes the profile's pulse."""

    pin: int = 2
    on_ms: int | None = None
    off_ms: int | None = None


@dataclass(frozen=True)
class Beep:
    """Sound the buzzer `times` times, each `duration` × 100 ms."""

    times: int = 1
    duration: int = 2


Block = Text | Columns | Rule | Feed | Barcode | QR | Image | Cut | Drawer | Beep


@dataclass(frozen=True)
class Document:
    """An ordered list of blocks to print on one receipt printer."""

    blocks: tuple[Block, ...]


# -- parsing -------------------------------------------------------------------------------

MAX_TEXT = 4096
MAX_BLOCKS = 2000


def _str(o: Mapping[str, object], key: str, path: str, default: str | None = None,
         max_len: int = MAX_TEXT) -> str:
    v = o.get(key, default)
    if not isinstance(v, str):
        raise InvalidInput(f"{path}.{key}", "must be a string" if key in o else "is required")
    if len(v) > max_len:
        raise InvalidInput(f"{path}.{key}", f"longer than {max_len} characters")
    return v


def _choice(o: Mapping[str, object], key: str, path: str, default: str,
            choices: Sequence[str]) -> str:
    v = o.get(key, default)
    if not isinstance(v, str) or v not in choices:
        raise InvalidInput(f"{path}.{key}", f"must be one of {', '.join(choices)}")
    return v


def _align(o: Mapping[str, object], path: str, default: Align) -> Align:
    a = _choice(o, "align", path, default, ALIGNS)
    return "left" if a == "left" else "center" if a == "center" else "right"


def ean_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of `digits` (the number without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


_CODE39 = re.compile(r"^[0-9A-Z \-.$/+%]+$")


def validate_barcode(kind: str, data: str, path: str) -> None:
    """Raise InvalidInput at `path` unless `data` is encodable as `kind`."""
    fixed = {"EAN13": 13, "EAN8": 8, "UPC-A": 12}
    if kind in fixed:
        n = fixed[kind]
        if not (data.isascii() and data.isdigit()) or len(data) not in (n - 1, n):
            raise InvalidInput(path, f"{kind} needs {n - 1} or {n} digits")
        if len(data) == n and ean_check_digit(data[:-1]) != int(data[-1]):
            raise InvalidInput(path, f"{kind} check digit is wrong "
                                     f"(expected {ean_check_digit(data[:-1])})")
    elif kind == "ITF" and (not (data.isascii() and data.isdigit()) or len(data) % 2 or not data):
        raise InvalidInput(path, "ITF needs an even number of digits")
    elif kind == "CODE39" and not _CODE39.match(data):
        raise InvalidInput(path, "CODE39 takes 0-9, A-Z, space and - . $ / + %")
    elif kind == "CODE128" and (not data or not all(32 <= ord(c) < 127 for c in data)):
        raise InvalidInput(path, "CODE128 takes printable ASCII")
    if len(data) > 80:
        raise InvalidInput(path, "longer than 80 characters")


def _parse_block(raw: object, path: str) -> Block:
    o = _obj(raw, path)
    kind = o.get("type")
    if kind == "text":
        _only(o, path, {"type", "text", "align", "bold", "underline", "width", "height"})
        return Text(_str(o, "text", path), _align(o, path, "left"), _bool(o, "bold", path, False),
                    _bool(o, "underline", path, False), _int(o, "width", path, 1, 1, 8),
                    _int(o, "height", path, 1, 1, 8))
    if kind == "columns":
        _only(o, path, {"type", "cells", "bold"})
        cells_raw = o.get("cells")
        if not isinstance(cells_raw, list) or not cells_raw:
            raise InvalidInput(f"{path}.cells", "must be a non-empty list")
        cells = []
        free = 0
        for i, c in enumerate(cells_raw):
            cp = f"{path}.cells[{i}]"
            co = _obj(c, cp)
            _only(co, cp, {"text", "width", "align"})
            width = None if co.get("width") is None else _int(co, "width", cp, 1, 1, 255)
            free += width is None
            cells.append(Cell(_str(co, "text", cp), width, _align(co, cp, "left")))
        if free > 1:
            raise InvalidInput(f"{path}.cells", "at most one cell may leave out its width")
        return Columns(tuple(cells), _bool(o, "bold", path, False))
    if kind == "rule":
        _only(o, path, {"type", "char"})
        ch = _str(o, "char", path, "-")
        if len(ch) != 1 or not ch.isprintable():
            raise InvalidInput(f"{path}.char", "must be one printable character")
        return Rule(ch)
    if kind == "feed":
        _only(o, path, {"type", "lines"})
        return Feed(_int(o, "lines", path, 1, 1, 255))
    if kind == "barcode":
        _only(o, path, {"type", "symbology", "data", "height", "module", "hri", "align"})
        sym = _choice(o, "symbology", path, "CODE128", BARCODE_TYPES)
        data = _str(o, "data", path)
        validate_barcode(sym, data, f"{path}.data")
        return Barcode(sym, data, _int(o, "height", path, 80, 1, 255),
                       None if o.get("module") is None else _int(o, "module", path, 2, 1, 6),
                       _choice(o, "hri", path, "below", HRI_POSITIONS), _align(o, path, "center"))
    if kind == "qr":
        _only(o, path, {"type", "data", "size", "ec", "align"})
        data = _str(o, "data", path, max_len=1000)
        if not data:
            raise InvalidInput(f"{path}.data", "must not be empty")
        return QR(data, _int(o, "size", path, 6, 1, 16), _choice(o, "ec", path, "M", QR_LEVELS),
                  _align(o, path, "center"))
    if kind == "image":
        _only(o, path, {"type", "png", "align", "dither"})
        b64 = _str(o, "png", path, max_len=4_000_000)
        try:
            png = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{path}.png", "is not valid base64") from None
        png_header(png, f"{path}.png")
        return Image(png, _align(o, path, "center"), _bool(o, "dither", path, True))
    if kind == "cut":
        _only(o, path, {"type", "mode", "feed"})
        mode = _choice(o, "mode", path, "partial", ("full", "partial"))
        return Cut("full" if mode == "full" else "partial", _int(o, "feed", path, 4, 0, 255))
    if kind == "drawer":
        _only(o, path, {"type", "pin", "on_ms", "off_ms"})
        pin = _int(o, "pin", path, 2, 2, 5)
        if pin not in (2, 5):
            raise InvalidInput(f"{path}.pin", "must be 2 or 5")
        on = None if o.get("on_ms") is None else _int(o, "on_ms", path, 100, 2, 510)
        off = None if o.get("off_ms") is None else _int(o, "off_ms", path, 100, 2, 510)
        return Drawer(pin, on, off)
    if kind == "beep":
        _only(o, path, {"type", "times", "duration"})
        return Beep(_int(o, "times", path, 1, 1, 9), _int(o, "duration", path, 2, 1, 9))
    raise InvalidInput(f"{path}.type", f"unknown block type {kind!r}")


def parse_document(raw: object, path: str = "document") -> Document:
    """Validate a JSON value into a Document; raise InvalidInput naming the first bad field."""
    o = _obj(raw, path)
    _only(o, path, {"blocks"})
    blocks = o.get("blocks")
    if not isinstance(blocks, list):
        raise InvalidInput(f"{path}.blocks", "must be a list")
    if len(blocks) > MAX_BLOCKS:
        raise InvalidInput(f"{path}.blocks", f"more than {MAX_BLOCKS} blocks")
    budget = document_budget()
    out = []
    for i, b in enumerate(blocks):
        block = _parse_block(b, f"{path}.blocks[{i}]")
        if isinstance(block, Image):  # what the images decode to, known before decoding any
            budget.charge_image(block.png, f"{path}.blocks[{i}].png")
        out.append(block)
    return Document(tuple(out))
