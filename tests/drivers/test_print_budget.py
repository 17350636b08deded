"""What a print job may cost: pixels from PNG headers, raster rows and CPU, before any decoding."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from drivers import InvalidInput
from drivers.escpos.document import QR, Document, Text, parse_document
from drivers.escpos.encoder import encode
from drivers.label import encode_label, parse_label
from drivers.label.document import LabelDocument
from drivers.label.document import Text as LabelText
from drivers.print_budget import (
    MAX_DOCUMENT_PIXELS,
    MAX_DOCUMENT_ROWS,
    MAX_LABEL_PIXELS,
    MAX_LABEL_ROWS,
    MAX_RENDER_CPU_S,
    Budget,
    JobTooLarge,
    document_budget,
    png_header,
)
from drivers.profiles import get_profile


def png(width: int, height: int, mode: str = "1", fill: int | tuple[int, ...] = 1) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), fill).save(out, format="PNG", optimize=True)
    return out.getvalue()


def lying_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width × height and whose data is garbage: decoding it fails,
    so a budget error proves nothing was decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"not zlib")
            + chunk(b"IEND", b""))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ticking(step: float) -> Callable[[], float]:
    """A CPU clock that advances `step` seconds each time it is read."""
    ticks: Iterator[int] = iter(range(10**9))
    return lambda: next(ticks) * step


def test_png_header_is_read_without_decoding() -> None:
    h = png_header(lying_png(100_000, 90_000), "png")
    assert (h.width, h.height, h.bit_depth, h.color_type, h.pixels) == (
        100_000, 90_000, 8, 6, 9_000_000_000)
    assert png_header(png(576, 8000), "png").pixels == 576 * 8000
    for bad, reason in [(b"GIF89a", "is not a PNG image"),
                        (b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "no IHDR header"),
                        (lying_png(0, 10), "bad IHDR header")]:
        with pytest.raises(InvalidInput, match=reason) as e:
            png_header(bad, "document.blocks[0].png")
        assert e.value.field == "document.blocks[0].png"


def test_receipt_images_are_bounded_per_document_before_decoding() -> None:
    # The audit's attack: many small PNGs that each decode to 576 × 8000 dots.
    tall = b64(png(576, 8000))
    blocks = [{"type": "image", "png": tall} for _ in range(2000)]
    with pytest.raises(JobTooLarge) as e:
        parse_document({"blocks": blocks})
    assert e.value.field == "document.blocks[3].png"
    assert str(MAX_DOCUMENT_PIXELS) in e.value.reason
    # A header alone decides: the garbage data behind it is never decoded.
    with pytest.raises(JobTooLarge) as e:
        parse_document({"blocks": [{"type": "text", "text": "会员日"},
                                   {"type": "image", "png": b64(lying_png(60_000, 60_000))}]})
    assert e.value.field == "document.blocks[1].png"
    assert isinstance(e.value, InvalidInput)  # a 4xx, of the drivers' root exception


def test_receipt_raster_rows_are_bounded_per_document() -> None:
    # Raster text: every line is a bitmap; 2000 blocks of 8× text would be 262 million rows.
    profile = get_profile("raster-80")
    block = Text("价" * 400, height=8, width=8)
    with pytest.raises(JobTooLarge) as e:
        encode(Document((block,) * 2000), profile)
    per_line = profile.columns // 8 // 2  # Han characters on a line at width 8
    rows_per_block = -(-400 // per_line) * 24 * 8  # 192 rows a line
    assert e.value.field == f"document.blocks[{MAX_DOCUMENT_ROWS // rows_per_block}]"
    assert str(MAX_DOCUMENT_ROWS) in e.value.reason
    # The same document on a printer with Chinese in its font costs no raster rows.
    assert encode(Document((block,) * 20), get_profile("generic-cn-80")).data


def test_receipt_rendering_has_a_cpu_budget() -> None:
    budget = Budget("document", MAX_DOCUMENT_PIXELS, MAX_DOCUMENT_ROWS,
                    clock=ticking(MAX_RENDER_CPU_S * 0.4))  # 4, 8, then 12 s after block 2
    doc = Document(tuple(Text(f"第{i}行") for i in range(10)))
    with pytest.raises(JobTooLarge, match="took more than 10 s of CPU") as e:
        encode(doc, get_profile("generic-cn-80"), budget)
    assert e.value.field == "document.blocks[2]"
    assert encode(doc, get_profile("generic-cn-80"), document_budget()).data


def test_qr_codes_are_counted_before_their_symbol_is_computed() -> None:
    # A budget may allow no QR code (the box's inline rendering, agent/printing/jobs.py): the
    # second block is refused before segno spends milliseconds on it.
    doc = Document((Text("取货码"), QR("SL-20261207-0001", size=5), QR("SL-2", size=5)))
    profile = get_profile("generic-cn-80")
    with pytest.raises(JobTooLarge, match="more than 0 QR codes") as e:
        encode(doc, profile, Budget("document", 0, 0, max_qr=0))
    assert e.value.field == "document.blocks[1]"
    with pytest.raises(JobTooLarge) as e:
        encode(doc, profile, Budget("document", 0, 0, max_qr=1))
    assert e.value.field == "document.blocks[2]"
    assert encode(doc, profile, document_budget()).data  # no limit on QR codes by default


def label_image(x: float, data: bytes) -> dict[str, object]:
    return {"type": "image", "x": x, "y": 0, "png": b64(data), "width": 10}


def test_label_images_are_bounded_per_label_before_decoding() -> None:
    # The audit's attack: RGBA 4000 × 4000 images on one label.
    rgba = png(4000, 4000, "RGBA", (0, 0, 0, 0))
    with pytest.raises(JobTooLarge) as e:
        parse_label({"width": 60, "height": 40,
                     "elements": [label_image(0, rgba) for _ in range(89)]})
    assert e.value.field == "document.elements[1].png"
    assert str(MAX_LABEL_PIXELS) in e.value.reason
    with pytest.raises(JobTooLarge) as e:
        parse_label({"width": 60, "height": 40, "elements": [
            {"type": "text", "x": 1, "y": 1, "text": "价签"},
            label_image(20, lying_png(3000, 3000)), label_image(0, lying_png(3000, 3000))]})
    assert e.value.field == "document.elements[2].png"
    # Too big a side is refused from the header too; corrupt data when the layout decodes it.
    with pytest.raises(InvalidInput, match="larger than 4000 px"):
        parse_label({"width": 60, "height": 40, "elements": [label_image(0, lying_png(4001, 2))]})
    doc = parse_label({"width": 60, "height": 40, "elements": [label_image(0, lying_png(40, 20))]})
    with pytest.raises(InvalidInput) as bad:
        encode_label(doc, get_profile("tspl-203"))
    assert (bad.value.field, bad.value.reason) == ("document.elements[0].png",
                                                   "is not a readable PNG image")
    assert not isinstance(bad.value, JobTooLarge)


def test_label_bitmap_rows_are_bounded_per_label() -> None:
    # Without a Chinese font every text line is a bitmap; 500 elements × 20 lines overlap freely.
    text = LabelText(1, 1, "\n".join(["工艺流转卡"] * 20), size=1.5, lines=20)
    doc = LabelDocument(100, 300, (text,) * 500)
    with pytest.raises(JobTooLarge) as e:
        encode_label(doc, get_profile("tspl-203-bitmap"))
    rows = 20 * 12  # 1.5 mm text at 203 dpi: lines 12 dots high
    assert e.value.field == f"document.elements[{MAX_LABEL_ROWS // rows}]"
    assert str(MAX_LABEL_ROWS) in e.value.reason
    # Native text costs no bitmap rows.
    assert encode_label(doc, get_profile("zpl-300-cjk"))
