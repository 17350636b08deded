"""Rendering: barcodes and QR codes decode, Chinese is drawn the same on every path, PNG out."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from typing import Any

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops

from drivers.label.document import parse_label
from drivers.label.drawing import DrawBitmap, DrawText, ParsedLabel
from drivers.label.interpret import interpret
from drivers.label.layout import dots
from drivers.label.raster import line_image
from drivers.label.render import preview, preview_png, render_label
from drivers.profiles import PrinterProfile, get_profile

PROFILES = [get_profile(n) for n in ("tspl-203", "tspl-203-bitmap", "tspl-300", "zpl-203",
                                     "zpl-300-cjk")]
ZPL_203_CJK = replace(get_profile("zpl-203"), name="zpl-203-cjk", label_cjk_font="E:SIMSUN.TTF")
TSPL_300_BITMAP = replace(get_profile("tspl-300"), name="tspl-300-bitmap", label_cjk_font="")
ZPL_300 = replace(get_profile("zpl-300-cjk"), name="zpl-300", label_cjk_font="")


def decoded(img: Image.Image) -> set[tuple[str, str]]:
    return {(r.format.name, r.text) for r in zxingcpp.read_barcodes(img)}


SYMBOLS = {"width": 100, "height": 70, "elements": [
    {"type": "barcode", "x": 5, "y": 3, "symbology": "CODE128", "data": "XS-20261129-0041"},
    {"type": "barcode", "x": 5, "y": 20, "symbology": "EAN13", "data": "690123450001"},
    {"type": "barcode", "x": 5, "y": 37, "symbology": "CODE39", "data": "SC-001"},
    {"type": "qr", "x": 70, "y": 5, "data": "SLFC1:SC-20261129-001:3/13:80:NF7NAG4D",
     "size": 25},
    {"type": "qr", "x": 70, "y": 40, "data": "不锈钢门铰链 组件", "size": 25, "ec": "H"},
]}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_barcodes_and_qr_codes_decode_to_exactly_their_data(profile: PrinterProfile) -> None:
    (img,) = preview(parse_label(SYMBOLS), profile)
    assert img.size == (dots(100, profile.dpi), dots(70, profile.dpi))
    assert decoded(img) == {
        ("Code128", "XS-20261129-0041"), ("EAN13", "6901234500011"), ("Code39", "SC-001"),
        ("QRCode", "SLFC1:SC-20261129-001:3/13:80:NF7NAG4D"), ("QRCode", "不锈钢门铰链 组件")}


CHINESE = {"width": 100, "height": 40, "elements": [
    {"type": "text", "x": 2, "y": 2, "text": "工艺流转卡 SC-20261129-001", "bold": True},
    {"type": "text", "x": 2, "y": 7, "text": "品名 不锈钢门铰链 组件", "width": 40, "lines": 2,
     "align": "center"},
    {"type": "text", "x": 50, "y": 7, "text": "数量 80 件", "bold": True, "width": 35,
     "align": "right"},
    {"type": "text", "x": 90, "y": 15, "text": "竖排文字", "rotation": 90, "bold": True},
    {"type": "text", "x": 50, "y": 20, "text": "倒置", "rotation": 180},
    {"type": "text", "x": 70, "y": 16, "text": "左转", "rotation": 270, "bold": True},
    {"type": "box", "x": 1, "y": 1, "width": 98, "height": 38},
]}


# 3 mm is 24 dots at 203 dpi, the resident font's own size; larger native text is that font
# doubled dot for dot (as a printer does), so only 3 mm text is the same picture on every path.
@pytest.mark.parametrize(("native", "others"), [
    (get_profile("tspl-203"), [get_profile("tspl-203-bitmap"), get_profile("zpl-203"),
                               ZPL_203_CJK]),
    (get_profile("zpl-300-cjk"), [TSPL_300_BITMAP, ZPL_300]),
])
def test_chinese_prints_the_same_whichever_path_it_takes(native: PrinterProfile,
                                                         others: list[PrinterProfile]) -> None:
    doc = parse_label(CHINESE)
    (reference,) = preview(doc, native)
    assert reference.getextrema() == (0, 255)
    for profile in others:
        (img,) = preview(doc, profile)
        assert ImageChops.difference(reference, img).getbbox() is None, profile.name


def test_doubled_resident_font_stays_in_the_same_box() -> None:
    doc = parse_label({"width": 60, "height": 20, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": "￥8.50/片", "size": 6}]})
    images = [preview(doc, get_profile(n))[0] for n in ("tspl-203", "tspl-203-bitmap")]
    for img in images:
        left, top, right, bottom = img.point(lambda v: 255 - v).getbbox() or (0, 0, 0, 0)
        assert left >= 16 and top >= 16 and right <= 16 + 9 * 24 and bottom <= 16 + 48
    # The doubled 24-dot font is not the 48-dot rasterization.
    assert ImageChops.difference(*images).getbbox() is not None


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_text_pixels_are_the_rasterized_text(profile: PrinterProfile) -> None:
    doc = parse_label({"width": 60, "height": 20, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": "合页 4寸 ￥8.50"}]})
    (img,) = preview(doc, profile)
    x = y = dots(2, profile.dpi)
    native_tspl = profile.language == "tspl" and profile.label_cjk_font
    cw = 12 if native_tspl else round(3 * profile.dpi / 25.4 / 2)
    ref = line_image("合页 4寸 ￥8.50", cw, 2 * cw).convert("L")
    crop = img.crop((x, y, x + ref.width, y + ref.height))
    assert ImageChops.difference(crop, ref).getbbox() is None
    rest = img.copy()
    rest.paste(255, (x, y, x + ref.width, y + ref.height))
    assert rest.getextrema() == (255, 255)  # nothing drawn anywhere else


def test_missing_glyphs_are_drawn_as_boxes_not_as_text() -> None:
    text = DrawText(0, 0, "合页", (2, 2), 12, 24)
    legible = render_label(ParsedLabel("tspl", 48, 24, 203, 1, (text,)))
    boxes = render_label(ParsedLabel("tspl", 48, 24, 203, 1, (replace(text, glyphs=False),)))
    assert ImageChops.difference(legible, boxes).getbbox() is not None
    assert boxes.getpixel((2, 12)) == 0 and boxes.getpixel((12, 12)) == 255


def test_bitmap_modes() -> None:
    black = DrawBitmap(0, 0, 1, 2, b"\xff\xff", "or")
    white = DrawBitmap(0, 0, 1, 1, b"\x00", "overwrite")
    xor = DrawBitmap(0, 1, 1, 1, b"\xf0", "xor")
    img = render_label(ParsedLabel("tspl", 8, 2, 203, 1, (black, white, xor)))
    assert [img.getpixel((i, 0)) for i in range(8)] == [255] * 8
    assert [img.getpixel((i, 1)) for i in range(8)] == [255] * 4 + [0] * 4


def png_b64(size: tuple[int, int]) -> str:
    out = io.BytesIO()
    im = Image.new("RGBA", size, (0, 0, 0, 0))
    im.paste((0, 0, 0, 255), (0, 0, size[0] // 2, size[1]))
    im.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_image_element_is_scaled_to_its_width(profile: PrinterProfile) -> None:
    doc: dict[str, Any] = {"width": 40, "height": 20, "elements": [
        {"type": "image", "x": 10, "y": 5, "png": png_b64((40, 20)), "width": 20}]}
    (img,) = preview(parse_label(doc), profile)
    x0, y0, w = dots(10, profile.dpi), dots(5, profile.dpi), dots(20, profile.dpi)
    assert img.getpixel((x0 + 2, y0 + 2)) == 0  # opaque black half
    assert img.getpixel((x0 + w - 3, y0 + 2)) == 255  # transparent half prints nothing
    assert img.crop((0, 0, x0, img.height)).getextrema() == (255, 255)


def test_preview_png() -> None:
    data = preview_png(parse_label(SYMBOLS), get_profile("zpl-203"))
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (799, 559)


def test_hostile_sizes_render_bounded() -> None:
    stream = (b"^XA^PW400^LL200^FO0,0^A0N,1400,1400^FD" + b"x" * 200_000 + b"^FS"
              b"^FO0,0^GB30000,30000,5^FS^XZ")
    (label,) = interpret(stream, get_profile("zpl-203"))
    assert len(label.elements) == 2
    assert render_label(label).size == (400, 200)
    tspl = (b'SIZE 50 mm,25 mm\r\nCLS\r\nTEXT 0,0,"5",0,10,10,"' + b"W" * 60_000
            + b'"\r\nPRINT 1\r\n')
    (label,) = interpret(tspl, get_profile("tspl-203"))
    assert len(label.elements) == 1
    assert render_label(label).getextrema() == (0, 255)


PIECES = [b"SIZE 20 mm,10 mm\r\n", b"CLS\r\n", b'TEXT 8,8,"TSS24.BF2",90,2,1,"AB"\r\n',
          b"BITMAP 1,1,1,3,2,\x1b!?", b'BARCODE 8,8,"39S",20,1,180,2,6,"AB-1"\r\n',
          b'QRCODE 100,50,H,2,A,270,"x"\r\n', b"BOX 0,0,9,9,1\r\n", b"PRINT 1\r\n",
          b"^XA", b"^FO5,5^BY3^BEN,20,N,N^FD123456789012^FS", b"^FO5,5^AAR,30,10^FDab^FS",
          b"^FO1,1^GFA,4,4,1,F:,!^FS", b"^FO-5,-5^GB50,50,50^FS", b"^XZ", b"\r\n"]


@settings(max_examples=60)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=6)), max_size=20))
def test_whatever_arrives_renders(parts: list[bytes]) -> None:
    stream = b"".join(parts)
    for name in ("tspl-203", "zpl-300-cjk"):
        for label in interpret(stream, get_profile(name)):
            img = render_label(label)
            assert img.size == (min(label.width, 8000), min(label.height, 8000))
