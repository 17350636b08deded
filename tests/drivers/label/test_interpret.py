"""TSPL / ZPL interpreters: round trips from the encoders, vectors, bounds, chunking, garbage."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.label.document import parse_label
from drivers.label.drawing import (
    DrawBar,
    DrawBarcode,
    DrawBitmap,
    DrawBox,
    DrawQR,
    DrawText,
    Event,
    Notice,
    ParsedLabel,
    Query,
)
from drivers.label.interpret import encode_label, interpret, interpret_events
from drivers.label.tspl_reader import MAX_LINE, TsplReader
from drivers.label.zpl_reader import ZplReader
from drivers.profiles import get_profile

from .samples import CUSTOMERS

TSPL = get_profile("tspl-203")
ZPL_CJK = get_profile("zpl-300-cjk")
ZPL_CJK_203 = replace(get_profile("zpl-203"), label_cjk_font="E:SIMSUN.TTF")
ADDRESS = CUSTOMERS["K002"]["address"]


def texts(label: ParsedLabel) -> list[str]:
    return [e.text for e in label.elements if isinstance(e, DrawText)]


@pytest.mark.parametrize("profile", [TSPL, ZPL_CJK, ZPL_CJK_203, get_profile("tspl-300")])
def test_native_chinese_decodes_to_the_input(profile: object) -> None:
    doc = parse_label({"width": 100, "height": 30, "elements": [
        {"type": "text", "x": 2, "y": 2, "text": "客户 永盛五金店（K002）", "bold": True},
        {"type": "text", "x": 2, "y": 8, "text": "地址 " + ADDRESS, "width": 40, "lines": 2},
        {"type": "text", "x": 60, "y": 8, "text": 'M4×30 "500只/盒" ^_~', "size": 3}]})
    assert isinstance(profile, type(TSPL))
    (label,) = interpret(encode_label(doc, profile), profile)
    assert texts(label) == ["客户 永盛五金店（K002）", "客户 永盛五金店（K002）",
                            "地址 重庆市渝北区两路镇空", "港大道88号", 'M4×30 "500只/盒" ^_~']
    assert all(e.glyphs for e in label.elements if isinstance(e, DrawText))
    assert (label.width, label.height, label.copies) == (round(100 * profile.dpi / 25.4),
                                                         round(30 * profile.dpi / 25.4), 1)


def test_round_trip_of_every_element_kind() -> None:
    doc = parse_label({"width": 60, "height": 40, "copies": 2, "elements": [
        {"type": "barcode", "x": 2, "y": 2, "data": "XS-20261129-0041", "height": 8},
        {"type": "barcode", "x": 2, "y": 15, "symbology": "EAN13", "data": "6901234500011",
         "height": 6, "hri": False},
        {"type": "qr", "x": 40, "y": 15, "data": "SLFC1:A:1/1:1:AHISVVVA", "size": 15},
        {"type": "box", "x": 1, "y": 1, "width": 58, "height": 38},
        {"type": "line", "x": 1, "y": 30, "x2": 30, "y2": 30}]})
    for profile in (TSPL, get_profile("zpl-203")):
        (label,) = interpret(encode_label(doc, profile), profile)
        code128, ean, qr, box, bar = label.elements
        assert isinstance(code128, DrawBarcode) and code128.data == "XS-20261129-0041"
        assert (code128.x, code128.y, code128.height, code128.module, code128.hri) == \
            (16, 16, 64, 2, True)
        assert isinstance(ean, DrawBarcode) and (ean.symbology, ean.data, ean.hri) == \
            ("EAN13", "690123450001", False)
        assert isinstance(qr, DrawQR) and (qr.data, qr.ec, qr.cell) == \
            ("SLFC1:A:1/1:1:AHISVVVA", "M", 4)
        assert isinstance(box, DrawBox) and (box.x, box.y, box.w, box.h) == (8, 8, 464, 304)
        assert isinstance(bar, (DrawBox, DrawBar))
        assert label.copies == 2


def test_tspl_vector() -> None:
    stream = (b'SIZE 2,1\r\nGAP 0.08,0\r\nCLS\r\nTEXT 10,20,"3",0,1,1,"AB"\r\n'
              b"BITMAP 5,6,2,2,0,\x1b!?\n\r\n"
              b"\x1b!?BAR 1,2,3,4\r\n\x1b!SPRINT 2,3\r\nCLS\r\nFROB 1\r\nTEXT 1,2\r\nPRINT 1")
    events = interpret_events(stream, TSPL)
    assert events[0] == Query("!?") and events[1] == Query("!S")
    label = events[2]
    assert isinstance(label, ParsedLabel)
    assert (label.width, label.height, label.copies) == (406, 203, 6)
    text, bitmap, bar = label.elements
    assert text == DrawText(10, 20, "AB", (1, 1), 16, 24, 0, True, 1, 1, True)
    # BITMAP data is binary: the ESC ! ? and LF inside it are pixels, not commands.
    assert bitmap == DrawBitmap(5, 6, 2, 2, bytes(b ^ 0xFF for b in b"\x1b!?\n"), "overwrite")
    assert bar == DrawBar(1, 2, 3, 4)
    assert events[3] == Notice("unknown command FROB")
    assert isinstance(events[4], Notice) and events[4].message.startswith("TEXT skipped")
    assert isinstance(events[5], ParsedLabel) and events[5].elements == ()


def test_tspl_text_in_a_font_the_printer_lacks_is_drawn_as_boxes() -> None:
    stream = 'CLS\r\nTEXT 1,1,"TSS24.BF2",0,1,1,"合页"\r\nPRINT 1\r\n'.encode("gb2312")
    (label,) = interpret(stream, get_profile("tspl-203-bitmap"))
    (text,) = label.elements
    assert isinstance(text, DrawText) and text.text == "合页" and not text.glyphs


def test_zpl_vector() -> None:
    stream = ("junk^XA^CI28^PW400^LL300^LH10,20~HS^CWJ,E:SIMSUN.TTF"
              "^FO5,5^AJN,30,30^FH^FD合_5E页^FS"
              "^FO0,0^A0R,20,20^FDabc^FS^FO1,1^AJN,24,24^FD^FS"
              "^FO0,50^GFA,4,4,2,FF,:^FS^FO0,60^GB100,3,3^FS^PQ2^XZ"
              "^XA^FO1,1^A0N,24,24^FD合^FS^ZZ1^XZ~HI").encode()
    events = interpret_events(stream, ZPL_CJK)
    assert events[0] == Query("~HS")
    label = events[1]
    assert isinstance(label, ParsedLabel) and (label.width, label.height, label.copies) == \
        (400, 300, 2)
    t1, t2, t3, graphic, box = label.elements
    assert t1 == DrawText(15, 25, "合^页", (2, 1, 2), 15, 30, 0, False, 1, 1, True)
    assert isinstance(t2, DrawText) and (t2.x, t2.y, t2.rotation) == (10, 20, 90)
    assert isinstance(t3, DrawText) and t3.text == ""
    assert graphic == DrawBitmap(10, 70, 2, 2, b"\xff\x00\xff\x00", "or")
    assert box == DrawBox(10, 80, 100, 3, 3)
    unmapped = events[3]
    assert events[2] == Notice("unknown command ^ZZ")
    assert isinstance(unmapped, ParsedLabel)
    assert isinstance(unmapped.elements[0], DrawText) and not unmapped.elements[0].glyphs
    assert events[4] == Query("~HI")


def test_overlong_lines_and_commands_are_skipped_not_buffered() -> None:
    reader = TsplReader()
    events = reader.feed(b"CLS\r\nTEXT " + b"x" * (MAX_LINE + 10))
    events += reader.feed(b"\x1b!?still the long line\r\nBAR 1,1,2,2\r\nPRINT 1\r\n")
    assert Notice(f"line longer than {MAX_LINE} bytes skipped") in events
    assert Query("!?") in events
    assert isinstance(events[-1], ParsedLabel) and events[-1].elements == (DrawBar(1, 1, 2, 2),)
    assert len(reader._buf) == 0
    big = b"BITMAP 0,0,9999,9999,0,\xff\r\nPRINT 1\r\n"
    notes = [e for e in interpret_events(big, TSPL) if isinstance(e, Notice)]
    assert any("BITMAP skipped" in n.message for n in notes)
    zpl = ZplReader()
    out = zpl.feed(b"^XA^FD" + b"x" * 4_000_010)
    out += zpl.feed(b"^FS^XZ")
    assert any(isinstance(e, Notice) and "longer than" in e.message for e in out)
    assert isinstance(out[-1], ParsedLabel)


def feed_chunks(make: type[TsplReader] | type[ZplReader], stream: bytes,
                cuts: list[int]) -> list[Event]:
    reader = make()
    points = sorted({min(c, len(stream)) for c in cuts})
    events: list[Event] = []
    for a, b in zip([0, *points], [*points, len(stream)], strict=True):
        events += reader.feed(stream[a:b])
    return events + reader.finish()


TSPL_PIECES = [b"SIZE 40 mm,30 mm\r\n", b"CLS\r\n", b"\x1b!?", b"\x1b!S", b"\x1b", b"\r\n",
               b'TEXT 8,8,"TSS24.BF2",0,1,1,"' + "合页".encode("gb2312") + b'"\r\n',
               b"BITMAP 1,1,1,3,1,\x1b!?", b"BITMAP 0,0,2,1,0,\n\r", b"BAR 0,0,5,5\r\n",
               b'BARCODE 8,8,"128",40,1,0,2,2,"AB\\["]C"\r\n', b"PRINT 1,2\r\n", b"PRINT",
               b'QRCODE 1,1,M,3,A,0,"x"\r\n', b"BOX 0,0,9,9,1\r\n", b'"', b","]
ZPL_PIECES = [b"^XA", b"^XZ", b"~HS", b"^FO10,10", b"^A0N,20,20", b"^FDab^FS", b"^FH",
              b"^FD_5Ex^FS", b"^GFA,2,2,1,F,:", b"^GB10,10,1^FS", b"^BY2", b"^BCN,40,Y,N,N,A",
              b"^FDAB12^FS", b"^BQN,2,3^FDMA,hi^FS", b"^CI28", b"~", b"^", b"^PQ2", b"\r\n"]


@settings(max_examples=200)
@given(st.lists(st.one_of(st.sampled_from(TSPL_PIECES), st.binary(max_size=8)), max_size=25),
       st.lists(st.integers(0, 300), max_size=8))
def test_tspl_any_chunking_gives_the_same_events(parts: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(parts)
    assert feed_chunks(TsplReader, stream, cuts) == feed_chunks(TsplReader, stream, [])


@settings(max_examples=200)
@given(st.lists(st.one_of(st.sampled_from(ZPL_PIECES), st.binary(max_size=8)), max_size=25),
       st.lists(st.integers(0, 300), max_size=8))
def test_zpl_any_chunking_gives_the_same_events(parts: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(parts)
    assert feed_chunks(ZplReader, stream, cuts) == feed_chunks(ZplReader, stream, [])


@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    for make in (TsplReader, ZplReader):
        events = feed_chunks(make, data, [len(data) // 3])
        assert all(isinstance(e, (ParsedLabel, Query, Notice)) for e in events)
