"""TSPL and ZPL encoders: byte vectors for each element, Chinese paths and escaping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drivers import InvalidInput
from drivers.glyphs import pack_bits
from drivers.label.document import parse_label
from drivers.label.interpret import encode_label
from drivers.label.raster import line_image
from drivers.label.tspl import encode_tspl
from drivers.label.zpl import encode_zpl
from drivers.profiles import get_profile

TSPL = get_profile("tspl-203")
TSPL_BITMAP = get_profile("tspl-203-bitmap")
ZPL = get_profile("zpl-203")
ZPL_CJK_203 = replace(ZPL, name="zpl-203-cjk", label_cjk_font="E:SIMSUN.TTF")
TEXT = '价签 ^_~"'
QR_DATA = "SLFC1:A:1/1:1:AHISVVVA"


def label(*extra: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"width": 40, "height": 30, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": TEXT},
        {"type": "barcode", "x": 2, "y": 8, "symbology": "EAN13", "data": "6901234500011"},
        {"type": "qr", "x": 25, "y": 12, "data": QR_DATA, "size": 12},
        {"type": "box", "x": 1, "y": 1, "width": 38, "height": 28},
        {"type": "line", "x": 1, "y": 20, "x2": 20, "y2": 20, "thickness": 0.25},
        *extra]} | top


def test_tspl_vector() -> None:
    gb = "价签 ^_~".encode("gb2312")
    assert encode_tspl(parse_label(label()), TSPL) == b"".join(line + b"\r\n" for line in [
        b"SIZE 40 mm,30 mm", b"GAP 2 mm,0 mm", b"DIRECTION 0", b"REFERENCE 0,0", b"CLS",
        b'TEXT 16,16,"TSS24.BF2",0,1,1,"' + gb + b'\\["]"',
        b'BARCODE 16,64,"EAN13",80,1,0,2,2,"690123450001"',
        b'QRCODE 200,96,M,3,A,0,"SLFC1:A:1/1:1:AHISVVVA"',
        b"BOX 8,8,312,232,2",
        b"BAR 8,160,152,2",
        b"PRINT 1,1"])


def test_zpl_vector_with_a_mapped_cjk_font() -> None:
    assert encode_zpl(parse_label(label()), ZPL_CJK_203).decode() == "\n".join([
        "^XA", "^CI28", "^PW320", "^LL240", "^LH0,0", "^PON", "^MNY", "^CW1,E:SIMSUN.TTF",
        '^FO16,16^A1N,24,24^FH^FD价签 _5E_5F_7E"^FS',
        "^BY2,3^FO16,64^BEN,80,Y,N^FH^FD690123450001^FS",
        "^FO200,96^BQN,2,3^FH^FDMA,SLFC1:A:1/1:1:AHISVVVA^FS",
        "^FO8,8^GB304,224,2^FS",
        "^FO8,160^GB152,2,2^FS",
        "^PQ1", "^XZ", ""])


def test_media_direction_and_copies() -> None:
    doc = parse_label(label(media="mark", gap=3, direction=1, copies=3))
    tspl = encode_tspl(doc, TSPL)
    assert b"BLINE 3 mm,0 mm\r\nDIRECTION 1\r\n" in tspl and tspl.endswith(b"PRINT 1,3\r\n")
    zpl = encode_zpl(doc, ZPL).decode()
    assert "^POI\n^MNM\n" in zpl and zpl.endswith("^PQ3\n^XZ\n")
    assert b"GAP 0,0\r\n" in encode_tspl(parse_label(label(media="continuous")), TSPL)
    assert "^MNN" in encode_zpl(parse_label(label(media="continuous")), ZPL).decode()


def test_code128_and_code39() -> None:
    doc = parse_label({"width": 80, "height": 30, "elements": [
        {"type": "barcode", "x": 1, "y": 1, "data": 'A"1', "hri": False},
        {"type": "barcode", "x": 1, "y": 15, "symbology": "CODE39", "data": "SC-001",
         "height": 8}]})
    tspl = encode_tspl(doc, TSPL)
    assert b'BARCODE 8,8,"128",80,0,0,2,2,"A\\["]1"\r\n' in tspl
    assert b'BARCODE 8,120,"39S",64,1,0,2,6,"SC-001"\r\n' in tspl
    zpl = encode_zpl(doc, ZPL).decode()
    assert '^BY2,3^FO8,8^BCN,80,N,N,N,A^FH^FDA"1^FS' in zpl
    assert "^BY2,3^FO8,120^B3N,N,64,Y,N^FH^FDSC-001^FS" in zpl


def test_rotated_and_bold_native_text() -> None:
    doc = parse_label({"width": 40, "height": 30, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": "竖排", "rotation": 90},
        {"type": "text", "x": 10, "y": 2, "text": "粗", "bold": True},
        {"type": "text", "x": 20, "y": 10, "text": "倒", "rotation": 180}]})
    tspl = encode_tspl(doc, TSPL)
    # TSPL turns text about its reference point: the unrotated text's top-left corner.
    assert f'TEXT 40,16,"TSS24.BF2",90,1,1,"{"竖排"}"'.encode("gb2312") in tspl
    assert 'TEXT 80,16,"TSS24.BF2",0,1,1,"粗"'.encode("gb2312") in tspl
    assert 'TEXT 81,16,"TSS24.BF2",0,1,1,"粗"'.encode("gb2312") in tspl
    assert 'TEXT 184,104,"TSS24.BF2",180,1,1,"倒"'.encode("gb2312") in tspl
    zpl = encode_zpl(doc, ZPL_CJK_203).decode()
    assert "^FO16,16^A1R,24,24^FH^FD竖排^FS" in zpl and "^FO160,80^A1I,24,24^FH^FD倒^FS" in zpl
    assert "^FO80,16^A1N,24,24^FH^FD粗^FS\n^FO81,16^A1N,24,24^FH^FD粗^FS" in zpl


def test_six_mm_text_uses_the_resident_font_doubled() -> None:
    doc = parse_label({"width": 40, "height": 30, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": "￥8.50", "size": 6}]})
    assert 'TEXT 16,16,"TSS24.BF2",0,2,2,"￥8.50"'.encode("gb2312") in encode_tspl(doc, TSPL)


def bitmap_payload(text: str, cw: int = 12, h: int = 24) -> bytes:
    wb, rows, data = pack_bits(line_image(text, cw, h))
    return f"BITMAP 16,16,{wb},{rows},1,".encode() + bytes(b ^ 0xFF for b in data) + b"\r\n"


def test_without_a_resident_font_chinese_goes_as_bitmap() -> None:
    out = encode_tspl(parse_label(label()), TSPL_BITMAP)
    assert b"TEXT" not in out
    # TSPL BITMAP prints 0 bits: the rows are the rasterized line, inverted.
    assert bitmap_payload(TEXT) in out


@pytest.mark.parametrize(("text", "size"), [("￥ vs ¥", 3), ("小字", 2)])
def test_text_the_resident_font_cannot_draw_goes_as_bitmap(text: str, size: float) -> None:
    doc = parse_label({"width": 40, "height": 30, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": text, "size": size}]})
    out = encode_tspl(doc, TSPL)
    assert b"TEXT" not in out and b"BITMAP 16,16," in out


def test_zpl_without_cjk_font_sends_graphics() -> None:
    out = encode_zpl(parse_label(label()), ZPL).decode()
    assert "^CW" not in out and "^A" not in out
    assert "^FO16,16^GFA,336,336,14," in out  # 108 dots → 14 bytes × 24 rows


def test_wrong_language_profile_is_refused() -> None:
    doc = parse_label(label())
    with pytest.raises(InvalidInput, match="not TSPL"):
        encode_tspl(doc, ZPL)
    with pytest.raises(InvalidInput, match="not ZPL"):
        encode_zpl(doc, TSPL)
    with pytest.raises(InvalidInput, match="not a label printer") as e:
        encode_label(doc, get_profile("generic-cn-80"))
    assert e.value.field == "profile"


def test_misfit_is_an_error_naming_the_element_not_a_cut_label() -> None:
    doc = parse_label(label({"type": "text", "x": 20, "y": 24, "text": "永盛装饰工程有限公司"}))
    for profile in (TSPL, ZPL):
        with pytest.raises(InvalidInput, match="text does not fit its box") as e:
            encode_label(doc, profile)
        assert e.value.field == "document.elements[5]"
