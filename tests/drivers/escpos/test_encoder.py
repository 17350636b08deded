"""The ESC/POS encoder: exact bytes per profile, raster fallbacks, chunking, errors by field."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
import zxingcpp
from escpos.constants import CD_KICK_2, CD_KICK_5, QR_ECLEVEL_M
from escpos.printer import Dummy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from drivers import InvalidInput
from drivers.escpos.document import (
    BARCODE_TYPES,
    HRI_POSITIONS,
    QR,
    Barcode,
    Beep,
    Block,
    Cell,
    Columns,
    Cut,
    Document,
    Drawer,
    Feed,
    Rule,
    Text,
)
from drivers.escpos.document import Image as ImageBlock
from drivers.escpos.encoder import Encoded, encode, qr_commands
from drivers.glyphs import scale, text_bitmap, unpack_bits
from drivers.profiles import get_profile

INIT = b"\x1b@\x1b3\x1e"
INIT_KANJI = INIT + b"\x1c."  # Kanji mode explicitly off: Chinese firmware powers up with it on
INIT_UTF8 = INIT + b"\x1c(C\x02\x000\x02"
MIXED = "价格 12.50 é"
MIXED_WIDTHS = [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]


def gb(s: str) -> bytes:
    """FS & + GB18030 + FS . for a Han-only piece."""
    return b"\x1c&" + s.encode("gb18030") + b"\x1c."


def doc(*blocks: Block) -> Document:
    return Document(tuple(blocks))


def enc(name: str, *blocks: Block) -> Encoded:
    return encode(doc(*blocks), get_profile(name))


def raster(chunk: bytes) -> Image.Image:
    """Decode one GS v 0 chunk (the chunk must be exactly one command)."""
    assert chunk[:4] == b"\x1dv0\x00"
    wb, rows = int.from_bytes(chunk[4:6], "little"), int.from_bytes(chunk[6:8], "little")
    assert len(chunk) == 8 + wb * rows
    return unpack_bits(wb, rows, chunk[8:])


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def stacked(chunks: tuple[bytes, ...]) -> Image.Image:
    """Several GS v 0 chunks as one image, top to bottom."""
    parts = [raster(c) for c in chunks]
    out = Image.new("1", (max(p.width for p in parts), sum(p.height for p in parts)), 1)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height
    return out


def blank(img: Image.Image) -> bool:
    return img.convert("L").getextrema() == (255, 255)


# -- byte vectors -------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("generic-cn-80", INIT_KANJI + gb("价格") + b" 12.50 \x1bt\x00\x82\n"),
    ("generic-cn-58", INIT_KANJI + gb("价格") + b" 12.50 \x1bt\x00\x82\n"),
    ("generic-tw-80", INIT_KANJI + b"\x1c&\xc9\xb2\xae\xe6\x1c." + b" 12.50 \x1bt\x00\x82\n"),
    ("epson-utf8-80", INIT_UTF8 + MIXED.encode("utf-8") + b"\n"),
])
def test_mixed_text_natively(name: str, expected: bytes) -> None:
    e = enc(name, Text(MIXED))
    assert e.chunks == (expected,)


@pytest.mark.parametrize("name", ["epson-tm-t88", "raster-80"])
def test_mixed_text_as_raster_equals_the_glyph_bitmap(name: str) -> None:
    e = enc(name, Text(MIXED))
    assert e.chunks[0] == INIT
    assert len(e.chunks) == 2
    got = raster(e.chunks[1])
    assert got.size == (144, 30)  # 12 columns × 12 dots; one 30-dot line advance
    want = text_bitmap(MIXED, MIXED_WIDTHS)
    assert got.crop((0, 0, 144, 24)).tobytes() == want.tobytes()
    assert blank(got.crop((0, 24, 144, 30)))


def test_euro_switches_to_cp858_and_pages_are_resent_after_an_image() -> None:
    e = enc("epson-tm-t88", Text("Total €12.50"), Text("不锈钢合页"), Text("é"))
    assert e.chunks[0] == INIT + b"Total \x1bt\x13\xd512.50\n"
    assert raster(e.chunks[1]).size == (120, 30)
    # The page is unknown again after an image, so ESC t is sent again.
    assert e.chunks[2] == b"\x1bt\x00\x82\n"


def test_a_small_receipt_under_generic_cn_80() -> None:
    e = enc("generic-cn-80",
            Text("永盛五金", align="center", bold=True, width=2, height=2),
            Columns((Cell("不锈钢合页 4寸", 24), Cell("x2", 8, "right"),
                     Cell("17.00", None, "right"))),
            Rule("-"),
            Text("合计 ¥17.00", align="right"),
            Feed(2),
            Cut())
    assert e.chunks == (
        INIT_KANJI
        + b"\x1ba\x01\x1bE\x01\x1d!\x11" + gb("永盛五金") + b"\n"
        + b"\x1ba\x00\x1bE\x00\x1d!\x00" + gb("不锈钢合页") + b" 4" + gb("寸")
        + b" " * 16 + b"x2" + b" " * 11 + b"17.00\n"
        + b"-" * 48 + b"\n"
        + b"\x1ba\x02" + gb("合计") + b" \x1bt\x00\x9d17.00\n"
        + b"\x1bd\x02"
        + b"\x1dVB\x04",)
    assert e.pause_ms == 10
    assert e.data == e.chunks[0]


def test_generic_cn_58_has_no_cutter_but_beeps_and_kicks() -> None:
    e = enc("generic-cn-58", Rule("＝"), Cut(), Beep(), Drawer())
    assert e.data == (INIT_KANJI + gb("＝" * 16) + b"\n" + b"\x1bd\x04" + b"\x1bB\x01\x02"
                      + b"\x1bp\x00\x32\x64")


def test_utf8_profile_selects_utf8_once() -> None:
    e = enc("epson-utf8-80", Text("猪肉白菜水饺"), Text("牛肉丸"))
    assert e.data == INIT_UTF8 + "猪肉白菜水饺\n牛肉丸\n".encode()


def test_big5_printer_rasterizes_only_lines_big5_cannot_carry() -> None:
    e = enc("generic-tw-80", Text("價格"), Text("不锈钢合页"), Text("收"))
    assert e.chunks[0] == INIT_KANJI + b"\x1c&\xbb\xf9\xae\xe6\x1c.\n"
    assert raster(e.chunks[1]).size == (120, 30)
    assert e.chunks[2] == b"\x1c&\xa6\xac\x1c.\n"


def test_raster_lines_of_a_paragraph_share_one_image_and_align_by_padding() -> None:
    p = get_profile("raster-80")
    e = encode(doc(Text("合计", align="center", bold=True, underline=True, width=2, height=2)), p)
    got = raster(e.chunks[1])
    want = scale(text_bitmap("合计", [2, 2], bold=True, underline=True), 2, 2)
    left = (576 - want.width) // 2
    assert got.size == (left + want.width, 48)
    assert got.crop((left, 0, got.width, 48)).tobytes() == want.tobytes()
    assert blank(got.crop((0, 0, left, 48)))
    two = encode(doc(Text("冷冻去骨鸭掌" * 5)), p)  # 60 columns: two lines, one image
    assert [raster(c).size for c in two.chunks[1:]] == [(576, 60)]


def test_lines_that_need_no_raster_stay_native_around_one_that_does() -> None:
    p = replace(get_profile("generic-cn-80"), dbcs="gbk")
    e = encode(doc(Text("好\n😀\n好")), p)
    assert e.chunks[0] == INIT_KANJI + gb("好") + b"\n"
    assert raster(e.chunks[1]).size == (24, 30)
    assert e.chunks[2] == gb("好") + b"\n"


# -- images and chunking ------------------------------------------------------------------

def test_a_576x300_image_goes_as_five_chunks_of_64_rows() -> None:
    img = Image.new("L", (576, 300), 0)
    e = enc("raster-80", ImageBlock(png(img)))
    assert e.chunks[0] == INIT
    rasters = e.chunks[1:]
    assert len(rasters) == 5
    assert [raster(c).size for c in rasters] == [(576, 64)] * 4 + [(576, 44)]
    assert all(c[8:] == b"\xff" * (len(c) - 8) for c in rasters)
    assert e.pause_ms == 20
    assert len(enc("generic-cn-80", ImageBlock(png(img))).chunks) == 1 + 3  # 128 rows each


def test_an_image_wider_than_the_paper_is_invalid() -> None:
    with pytest.raises(InvalidInput) as e:
        enc("generic-cn-80", Text("x"), ImageBlock(png(Image.new("L", (600, 10)))))
    assert e.value.field == "document.blocks[1].png"
    assert e.value.reason == "image is 600 dots wide, paper is 576"


def test_a_broken_png_is_invalid() -> None:
    with pytest.raises(InvalidInput) as e:
        enc("generic-cn-80", ImageBlock(b"\x89PNG\r\n\x1a\nbroken"))
    assert e.value.field == "document.blocks[0].png"


def test_dither_and_threshold() -> None:
    gray = png(Image.new("L", (64, 16), 100))
    dithered = raster(enc("raster-80", ImageBlock(gray, "left", dither=True)).chunks[1])
    thresholded = raster(enc("raster-80", ImageBlock(gray, "left", dither=False)).chunks[1])
    assert thresholded.tobytes() == Image.new("1", (64, 16), 0).tobytes()
    assert dithered.convert("L").getextrema() == (0, 255)


def test_transparent_pixels_are_paper_and_right_alignment_pads() -> None:
    img = Image.new("RGBA", (100, 4), (0, 0, 0, 0))
    img.putpixel((99, 0), (0, 0, 0, 255))
    got = raster(enc("raster-80", ImageBlock(png(img), "right")).chunks[1])
    assert got.size == (576, 4)
    assert ImageOps.invert(got.convert("L")).getbbox() == (575, 0, 576, 1)


# -- barcodes and QR ----------------------------------------------------------------------

def test_native_code128_matches_python_escpos() -> None:
    d = Dummy()
    d.barcode("{BJC-1001", "CODE128", height=80, width=2, pos="BELOW", font="A",
              align_ct=True, function_type="B")
    e = enc("generic-cn-80", Barcode("CODE128", "JC-1001"))
    assert e.data == INIT_KANJI + d.output


def test_native_ean13_matches_python_escpos() -> None:
    d = Dummy()
    d.barcode("690123450001", "EAN13", height=60, width=3, pos="BOTH", font="A",
              align_ct=True, function_type="B")
    e = enc("generic-cn-80", Barcode("EAN13", "690123450001", height=60, module=3, hri="both"))
    assert e.data == INIT_KANJI + d.output


def test_native_qr_matches_python_escpos() -> None:
    d = Dummy()
    d.qr("https://example.com/订单/123", ec=QR_ECLEVEL_M, size=6, native=True)
    assert qr_commands("https://example.com/订单/123".encode(), 6, "M") == d.output
    e = enc("generic-cn-80", QR("https://example.com/订单/123"))
    assert e.data == INIT_KANJI + b"\x1ba\x01" + d.output


def test_cut_drawer_and_beep_match_python_escpos() -> None:
    d = Dummy()
    d.cut(feed=False)
    assert enc("generic-cn-80", Cut("partial", 0)).data == INIT_KANJI + d.output
    assert enc("generic-cn-80", Drawer(2, 100, 100)).data == INIT_KANJI + CD_KICK_2
    assert enc("generic-cn-80", Drawer(5, 100, 100)).data == INIT_KANJI + CD_KICK_5
    d = Dummy()
    d.buzzer(3, 2)
    assert enc("generic-cn-80", Beep(3, 2)).data == INIT_KANJI + d.output


def test_cut_modes_follow_the_profile() -> None:
    assert enc("generic-cn-80", Cut("full", 4)).data.endswith(b"\x1dVA\x04")
    no_partial = replace(get_profile("generic-cn-80"), partial_cut=False)
    assert encode(doc(Cut("partial", 3)), no_partial).data.endswith(b"\x1dVA\x03")
    assert enc("generic-cn-58", Cut("full", 0)).data == INIT_KANJI  # no cutter, no feed


def test_drawer_needs_a_drawer_port_and_beep_is_dropped_without_a_buzzer() -> None:
    with pytest.raises(InvalidInput) as e:
        encode(doc(Text("开钱箱"), Drawer()), replace(get_profile("generic-cn-80"), drawer=False))
    assert e.value.field == "document.blocks[1]"
    assert enc("epson-tm-t88", Beep()).data == INIT


def decode(img: Image.Image) -> list[str]:
    framed = ImageOps.expand(img.convert("L"), 40, fill=255)
    return [r.text for r in zxingcpp.read_barcodes(framed)]


@pytest.mark.parametrize(("kind", "data", "text"), [
    ("EAN13", "690123450001", "6901234500011"),
    ("CODE128", "JC-1001", "JC-1001"),
    ("CODE39", "A-01-03", "A-01-03"),
    ("ITF", "12345678", "12345678"),
    ("EAN8", "9638507", "96385074"),
])
def test_raster_barcodes_scan_back(kind: str, data: str, text: str) -> None:
    e = enc("raster-80", Barcode(kind, data, height=60, module=2))
    assert len(e.chunks) == 3  # 60 bars + 28 HRI rows > 64 rows a chunk
    assert decode(stacked(e.chunks[1:])) == [text]


def test_raster_qr_scans_back_in_chunks() -> None:
    e = enc("raster-80", QR("https://example.com/订单/20240611-0032", size=6, ec="Q"))
    assert all(raster(c).height <= 64 for c in e.chunks[1:])
    assert decode(stacked(e.chunks[1:])) == ["https://example.com/订单/20240611-0032"]


def test_barcode_and_qr_errors_name_their_field() -> None:
    with pytest.raises(InvalidInput) as e:  # the sample catalogue's check digits are wrong
        enc("generic-cn-80", Barcode("EAN13", "6901234500017"))
    assert (e.value.field, e.value.reason) == ("document.blocks[0].data",
                                               "EAN13 check digit is wrong (expected 1)")
    with pytest.raises(InvalidInput, match="barcode is 1425 dots wide, paper is 576") as e:
        enc("generic-cn-80", Barcode("CODE128", "A" * 40, module=3))
    with pytest.raises(InvalidInput) as e:
        enc("generic-cn-58", QR("订单" * 100, size=10))
    assert e.value.field == "document.blocks[0].size"
    with pytest.raises(InvalidInput) as e:
        enc("generic-cn-80", QR("x" * 3000, ec="H"))
    assert e.value.field == "document.blocks[0].data"


def test_other_bad_values_name_their_field() -> None:
    cases: list[tuple[Block, str]] = [
        (Text("x", width=9), "width"),
        (Text("x", align="middle"), "align"),  # type: ignore[arg-type]
        (Feed(0), "lines"),
        (Cut("half", 1), "mode"),  # type: ignore[arg-type]
        (Drawer(3), "pin"), (Drawer(2, 1000), "on_ms"), (Beep(10), "times"), (Rule(""), "char"),
        (Columns((Cell("a", 30), Cell("b", 20))), "cells"),
        (Barcode("PDF417", "x"), "symbology"),
    ]
    for block, field in cases:
        with pytest.raises(InvalidInput) as e:
            enc("generic-cn-80", Text("ok"), block)
        assert e.value.field == f"document.blocks[1].{field}"


def test_lone_surrogates_from_json_are_dropped_from_text_and_refused_in_qr() -> None:
    assert enc("generic-cn-80", Text("订\ud800单")).data == INIT_KANJI + gb("订单") + b"\n"
    with pytest.raises(InvalidInput) as e:
        enc("generic-cn-80", QR("订单\udfff"))
    assert e.value.field == "document.blocks[0].data"


def test_control_characters_cannot_inject_commands() -> None:
    assert enc("generic-cn-80", Text("a\x1b@b\x1dV")).data == INIT_KANJI + b"a@bV\n"


# -- properties ---------------------------------------------------------------------------

PROFILES = ["generic-cn-80", "generic-cn-58", "epson-tm-t88", "epson-utf8-80", "raster-80",
            "generic-tw-80"]
HAN = "不锈钢合页静音抽屉滑轨十字沉头自攻螺丝猪肉白菜水饺智能手机曜石黑价格合计，。（）"
TEXT = (st.text(max_size=30) | st.text(st.sampled_from(HAN + "abc 12.5é€\n"), max_size=60)
        | st.sampled_from(["\ud800", "订单\udfff", "\x1b@", "e\u0301"]))
# Mostly valid values, with invalid ones mixed in.
ALIGN = st.sampled_from(["left", "center", "right", "left", "center", "middle"])
INTS = st.integers(0, 260)


@st.composite
def pngs(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(st.binary(max_size=30))
    size = (draw(st.integers(1, 620)), draw(st.integers(1, 40)))
    mode = draw(st.sampled_from(["1", "L", "LA", "RGB", "RGBA", "P"]))
    return png(Image.new(mode, size, draw(st.integers(0, 255)) if mode in ("L", "P") else None))


BLOCKS = st.one_of(
    st.builds(Text, TEXT, ALIGN, st.booleans(), st.booleans(), st.integers(0, 9),
              st.integers(0, 9)),
    st.builds(Columns, st.lists(st.builds(Cell, TEXT, st.none() | st.integers(0, 30), ALIGN),
                                max_size=4).map(tuple), st.booleans()),
    st.builds(Rule, st.sampled_from(["-", "=", "＝", "─", "*", "\u0301", "\n"])
              | st.text(max_size=2)),
    st.builds(Feed, INTS),
    st.builds(Barcode, st.sampled_from([*BARCODE_TYPES, "QR"]),
              st.text("0123456789", min_size=7, max_size=13)
              | st.text("0123456789ABC-", max_size=30) | st.text(max_size=5),
              INTS, st.integers(0, 7),
              st.sampled_from([*HRI_POSITIONS, "top"]), ALIGN),
    st.builds(QR, TEXT, st.integers(0, 17), st.sampled_from("LMQHLMQX"), ALIGN),
    st.builds(ImageBlock, pngs(), ALIGN, st.booleans()),
    st.builds(Cut, st.sampled_from(["full", "partial", "full", "partial", "half"]), INTS),
    st.builds(Drawer, st.sampled_from([2, 5, 2, 5, 3]), st.none() | st.integers(0, 600),
              st.none() | st.integers(0, 600)),
    st.builds(Beep, st.integers(1, 10), st.integers(1, 10)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(BLOCKS, max_size=3), name=st.sampled_from(PROFILES))
def test_encode_raises_only_invalid_input_and_chunks_fit_the_printer(blocks: list[Block],
                                                                     name: str) -> None:
    p = get_profile(name)
    try:
        e = encode(Document(tuple(blocks)), p)
    except InvalidInput as err:
        assert err.field.startswith("document.blocks[")
        event(f"invalid {err.field.split('.')[-1]}")
        return
    event("encoded")
    assert e.chunks[0].startswith(INIT)
    assert all(e.chunks)
    assert e == encode(Document(tuple(blocks)), p)  # pure: same input, same bytes
    for c in e.chunks[1:]:
        if c.startswith(b"\x1dv0"):
            img = raster(c)
            assert img.width <= p.paper_dots and img.height <= p.chunk_rows
