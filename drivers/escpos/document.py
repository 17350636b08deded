"""Receipt documents: typed blocks decoded from JSON through their schema (the validation
layer), with errors naming the dotted field."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from msgspec import Meta

from drivers import InvalidInput
from drivers.print_budget import document_budget, png_header
from validation import Schema, ValidationError
from validation.decode import convert

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


Str = Annotated[str, Meta(max_length=MAX_TEXT)]
Byte = Annotated[int, Meta(ge=1, le=255)]
Times = Annotated[int, Meta(ge=1, le=9)]
Pulse = Annotated[int, Meta(ge=2, le=510)]


class TextBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="text"):
    """`{"type": "text"}`."""

    text: Str
    align: Align = "left"
    bold: bool = False
    underline: bool = False
    width: Annotated[int, Meta(ge=1, le=8)] = 1
    height: Annotated[int, Meta(ge=1, le=8)] = 1


class CellItem(Schema, frozen=True, kw_only=True):
    """One cell of a columns block."""

    text: Str
    width: Byte | None = None
    align: Align = "left"


class ColumnsBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="columns"):
    """`{"type": "columns"}`."""

    cells: Annotated[list[CellItem], Meta(min_length=1)]
    bold: bool = False


class RuleBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="rule"):
    """`{"type": "rule"}`."""

    char: Str = "-"


class FeedBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="feed"):
    """`{"type": "feed"}`."""

    lines: Byte = 1


class BarcodeBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="barcode"):
    """`{"type": "barcode"}`."""

    data: Str
    symbology: Literal["CODE128", "EAN13", "EAN8", "CODE39", "ITF", "UPC-A"] = "CODE128"
    height: Byte = 80
    module: Annotated[int, Meta(ge=1, le=6)] | None = None  # None: widest that fits
    hri: Literal["none", "above", "below", "both"] = "below"
    align: Align = "center"


class QrBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="qr"):
    """`{"type": "qr"}`."""

    data: Annotated[str, Meta(min_length=1, max_length=1000)]
    size: Annotated[int, Meta(ge=1, le=16)] = 6
    ec: Literal["L", "M", "Q", "H"] = "M"
    align: Align = "center"


class ImageBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="image"):
    """`{"type": "image"}`: a base64 PNG."""

    png: Annotated[str, Meta(max_length=4_000_000)]
    align: Align = "center"
    dither: bool = True


class CutBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="cut"):
    """`{"type": "cut"}`."""

    mode: Literal["full", "partial"] = "partial"
    feed: Annotated[int, Meta(ge=0, le=255)] = 4


class DrawerBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="drawer"):
    """`{"type": "drawer"}`."""

    pin: Literal[2, 5] = 2
    on_ms: Pulse | None = None
    off_ms: Pulse | None = None


class BeepBlock(Schema, frozen=True, kw_only=True, tag_field="type", tag="beep"):
    """`{"type": "beep"}`."""

    times: Times = 1
    duration: Times = 2


BlockSchema = (TextBlock | ColumnsBlock | RuleBlock | FeedBlock | BarcodeBlock | QrBlock
               | ImageBlock | CutBlock | DrawerBlock | BeepBlock)


class DocumentSchema(Schema, frozen=True, kw_only=True):
    """A receipt document as JSON."""

    blocks: Annotated[list[BlockSchema], Meta(max_length=MAX_BLOCKS)]


def _block(b: BlockSchema, path: str) -> Block:
    """The block for its checked JSON, with the rules a schema cannot say."""
    if isinstance(b, TextBlock):
        return Text(b.text, b.align, b.bold, b.underline, b.width, b.height)
    if isinstance(b, ColumnsBlock):
        if sum(c.width is None for c in b.cells) > 1:
            raise InvalidInput(f"{path}.cells", "at most one cell may leave out its width")
        return Columns(tuple(Cell(c.text, c.width, c.align) for c in b.cells), b.bold)
    if isinstance(b, RuleBlock):
        if len(b.char) != 1 or not b.char.isprintable():
            raise InvalidInput(f"{path}.char", "must be one printable character")
        return Rule(b.char)
    if isinstance(b, FeedBlock):
        return Feed(b.lines)
    if isinstance(b, BarcodeBlock):
        validate_barcode(b.symbology, b.data, f"{path}.data")
        return Barcode(b.symbology, b.data, b.height, b.module, b.hri, b.align)
    if isinstance(b, QrBlock):
        return QR(b.data, b.size, b.ec, b.align)
    if isinstance(b, ImageBlock):
        try:
            png = base64.b64decode(b.png, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput(f"{path}.png", "is not valid base64") from None
        png_header(png, f"{path}.png")
        return Image(png, b.align, b.dither)
    if isinstance(b, CutBlock):
        return Cut(b.mode, b.feed)
    if isinstance(b, DrawerBlock):
        return Drawer(b.pin, b.on_ms, b.off_ms)
    return Beep(b.times, b.duration)


def parse_document(raw: object, path: str = "document") -> Document:
    """Validate a JSON value into a Document; raise InvalidInput naming the first bad field."""
    try:
        doc = convert(raw, DocumentSchema, prefix=path, whole=path)
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    budget = document_budget()
    out = []
    for i, b in enumerate(doc.blocks):
        block = _block(b, f"{path}.blocks[{i}]")
        if isinstance(block, Image):  # what the images decode to, known before decoding any
            budget.charge_image(block.png, f"{path}.blocks[{i}].png")
        out.append(block)
    return Document(tuple(out))
