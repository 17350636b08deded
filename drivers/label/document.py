"""Label documents: elements placed in mm, parsed from JSON with errors naming the dotted field."""

from __future__ import annotations

import base64
import binascii
import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from drivers import InvalidInput
from drivers.escpos.document import validate_barcode
from drivers.json_fields import boolean as _bool
from drivers.json_fields import integer as _int
from drivers.json_fields import obj as _obj
from drivers.json_fields import only as _only
from drivers.print_budget import Budget, label_budget, png_header

__all__ = [
    "ALIGNS", "DPIS", "MEDIA", "QR_LEVELS", "ROTATIONS", "SYMBOLOGIES", "Align", "Barcode", "Box",
    "Element", "Image", "LabelDocument", "Line", "Media", "Text", "parse_label",
]

Align = Literal["left", "center", "right"]
Media = Literal["gap", "mark", "continuous"]
ALIGNS: tuple[Align, ...] = ("left", "center", "right")
MEDIA: tuple[Media, ...] = ("gap", "mark", "continuous")
ROTATIONS: tuple[int, ...] = (0, 90, 180, 270)
SYMBOLOGIES: tuple[str, ...] = ("CODE128", "EAN13", "CODE39")
QR_LEVELS: tuple[str, ...] = ("L", "M", "Q", "H")
DPIS = (203, 300)
MAX_ELEMENTS = 500
MAX_TEXT = 500
MAX_IMAGE_PX = 4000


@dataclass(frozen=True)
class Text:
    """Text whose rotated bounding box has its top-left corner at (x, y).

    `size` is the character height in mm; an ASCII character is half as wide, any other
    character as wide as it is high. `width` bounds each line along the text (default: to the
    label's edge); the text wraps into at most `lines` lines or is an error. Rotation is clockwise.
    """

    x: float
    y: float
    text: str
    size: float = 3.0
    rotation: int = 0
    bold: bool = False
    width: float | None = None
    lines: int = 1
    align: Align = "left"


@dataclass(frozen=True)
class Barcode:
    """A 1-D barcode, top-left at (x, y); `height` is the bars' height, the digits go below."""

    x: float
    y: float
    symbology: str
    data: str
    height: float = 10.0
    module: float = 0.25
    hri: bool = True


@dataclass(frozen=True)
class QR:
    """A QR code, top-left at (x, y), at most `size` mm square."""

    x: float
    y: float
    data: str
    size: float = 20.0
    ec: str = "M"


@dataclass(frozen=True)
class Box:
    """A rectangle outline; lines of `thickness` drawn inside width × height."""

    x: float
    y: float
    width: float
    height: float
    thickness: float = 0.3


@dataclass(frozen=True)
class Line:
    """A horizontal or vertical line from (x, y) to (x2, y2), `thickness` wide."""

    x: float
    y: float
    x2: float
    y2: float
    thickness: float = 0.3


@dataclass(frozen=True)
class Image:
    """A PNG scaled to `width` mm (height keeps the aspect), thresholded or dithered to 1 bit."""

    x: float
    y: float
    png: bytes
    width: float
    dither: bool = False


Element = Text | Barcode | QR | Box | Line | Image


@dataclass(frozen=True)
class LabelDocument:
    """One label design: size, media and elements in mm; `dpi` None fits any printer."""

    width: float
    height: float
    elements: tuple[Element, ...]
    gap: float = 2.0
    media: Media = "gap"
    dpi: int | None = None
    direction: int = 0
    copies: int = 1


# -- parsing -------------------------------------------------------------------------------

T = TypeVar("T")


def _mm(o: Mapping[str, object], key: str, path: str, default: float | None,
        lo: float, hi: float) -> float:
    v = o.get(key, default)
    if v is None:
        raise InvalidInput(f"{path}.{key}", "is required")
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise InvalidInput(f"{path}.{key}", "must be a number (mm)")
    if not lo <= v <= hi:
        raise InvalidInput(f"{path}.{key}", f"must be {lo:g}-{hi:g} mm")
    return float(v)


def _str(o: Mapping[str, object], key: str, path: str, max_len: int = MAX_TEXT) -> str:
    v = o.get(key)
    if not isinstance(v, str):
        raise InvalidInput(f"{path}.{key}", "must be a string" if key in o else "is required")
    if not v:
        raise InvalidInput(f"{path}.{key}", "must not be empty")
    if len(v) > max_len:
        raise InvalidInput(f"{path}.{key}", f"longer than {max_len} characters")
    return v


def _choice(o: Mapping[str, object], key: str, path: str, default: T,
            choices: Sequence[T]) -> T:
    v = o.get(key, default)
    if isinstance(v, bool) or v not in choices:
        raise InvalidInput(f"{path}.{key}", f"must be one of {', '.join(map(str, choices))}")
    return choices[choices.index(v)]


def _printable(text: str, path: str, newlines: bool) -> str:
    for ch in text:
        if ch == "\n" and newlines:
            continue
        if not ch.isprintable() and ch != " ":
            raise InvalidInput(path, f"contains the control character U+{ord(ch):04X}")
    return text


def _controls_refused(text: str, path: str) -> str:
    """`text` unless it holds a control character (a printer command could follow a CR LF)."""
    for ch in text:
        if unicodedata.category(ch) == "Cc":
            raise InvalidInput(path, f"contains the control character U+{ord(ch):04X}")
    return text


def _png(o: Mapping[str, object], path: str) -> bytes:
    """The PNG bytes, checked from their header only: decoding waits for the layout."""
    b64 = _str(o, "png", path, max_len=4_000_000)
    try:
        png = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(f"{path}.png", "is not valid base64") from None
    header = png_header(png, f"{path}.png")
    if header.width > MAX_IMAGE_PX or header.height > MAX_IMAGE_PX:
        raise InvalidInput(f"{path}.png", f"larger than {MAX_IMAGE_PX} px")
    return png


def _element(raw: object, path: str, width: float, height: float) -> Element:
    o = _obj(raw, path)
    kind = o.get("type")
    big = max(width, height)
    x = _mm(o, "x", path, None, 0, width) if kind in _KINDS else 0.0
    y = _mm(o, "y", path, None, 0, height) if kind in _KINDS else 0.0
    if kind == "text":
        _only(o, path, {"type", "x", "y", "text", "size", "rotation", "bold", "width", "lines",
                        "align"})
        text = _printable(_str(o, "text", path), f"{path}.text", newlines=True)
        box = None if o.get("width") is None else _mm(o, "width", path, None, 1, big)
        return Text(x, y, text, _mm(o, "size", path, 3.0, 1.5, 30),
                    _choice(o, "rotation", path, 0, ROTATIONS), _bool(o, "bold", path, False),
                    box, _int(o, "lines", path, 1, 1, 20),
                    _choice(o, "align", path, "left", ALIGNS))
    if kind == "barcode":
        _only(o, path, {"type", "x", "y", "symbology", "data", "height", "module", "hri"})
        sym = _choice(o, "symbology", path, "CODE128", SYMBOLOGIES)
        data = _str(o, "data", path, max_len=80)
        validate_barcode(sym, data, f"{path}.data")
        return Barcode(x, y, sym, data, _mm(o, "height", path, 10.0, 2, 100),
                       _mm(o, "module", path, 0.25, 0.1, 1.0), _bool(o, "hri", path, True))
    if kind == "qr":
        _only(o, path, {"type", "x", "y", "data", "size", "ec"})
        data = _controls_refused(_str(o, "data", path, max_len=1000), f"{path}.data")
        return QR(x, y, data, _mm(o, "size", path, 20.0, 5, big),
                  _choice(o, "ec", path, "M", QR_LEVELS))
    if kind == "box":
        _only(o, path, {"type", "x", "y", "width", "height", "thickness"})
        return Box(x, y, _mm(o, "width", path, None, 0.1, width),
                   _mm(o, "height", path, None, 0.1, height),
                   _mm(o, "thickness", path, 0.3, 0.1, 10))
    if kind == "line":
        _only(o, path, {"type", "x", "y", "x2", "y2", "thickness"})
        x2 = _mm(o, "x2", path, None, 0, width)
        y2 = _mm(o, "y2", path, None, 0, height)
        if x2 != x and y2 != y:
            raise InvalidInput(path, "a line must be horizontal (y2 = y) or vertical (x2 = x)")
        return Line(x, y, x2, y2, _mm(o, "thickness", path, 0.3, 0.1, 10))
    if kind == "image":
        _only(o, path, {"type", "x", "y", "png", "width", "dither"})
        return Image(x, y, _png(o, path), _mm(o, "width", path, None, 1, width),
                     _bool(o, "dither", path, False))
    raise InvalidInput(f"{path}.type", f"unknown element type {kind!r} "
                                       f"(one of {', '.join(_KINDS)})")


_KINDS = ("text", "barcode", "qr", "box", "line", "image")


def _elements(raw: list[object], path: str, width: float, height: float,
              budget: Budget) -> tuple[Element, ...]:
    out = []
    for i, e in enumerate(raw):
        element = _element(e, f"{path}.elements[{i}]", width, height)
        if isinstance(element, Image):  # what the images decode to, known before decoding any
            budget.charge_image(element.png, f"{path}.elements[{i}].png")
        out.append(element)
    return tuple(out)


def parse_label(raw: object, path: str = "document") -> LabelDocument:
    """Validate a JSON value into a LabelDocument; raise InvalidInput naming the first bad field.

    Whether text fits its box depends on the printer's dpi: `layout.layout` checks that.
    """
    o = _obj(raw, path)
    _only(o, path, {"width", "height", "gap", "media", "dpi", "direction", "copies", "elements"})
    width = _mm(o, "width", path, None, 5, 300)
    height = _mm(o, "height", path, None, 5, 500)
    dpi = None if o.get("dpi") is None else _choice(o, "dpi", path, 203, DPIS)
    elements = o.get("elements")
    if not isinstance(elements, list):
        raise InvalidInput(f"{path}.elements", "must be a list")
    if len(elements) > MAX_ELEMENTS:
        raise InvalidInput(f"{path}.elements", f"more than {MAX_ELEMENTS} elements")
    return LabelDocument(
        width, height, _elements(elements, path, width, height, label_budget()),
        _mm(o, "gap", path, 2.0, 0, 50),
        _choice(o, "media", path, "gap", MEDIA),
        dpi,
        _int(o, "direction", path, 0, 0, 1),
        _int(o, "copies", path, 1, 1, 999),
    )
