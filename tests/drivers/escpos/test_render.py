"""Renderings of hand-written ESC/POS bytes: text lands on the cell grid, codes scan back."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.escpos.paper_events import QR, Barcode, Cut, Drawer, Feed, Line, Raster, Span
from drivers.escpos.render import barcode_image, qr_image, render, render_bytes, to_png
from drivers.glyphs import unpack_bits
from drivers.profiles import get_profile

CN80 = get_profile("generic-cn-80")
CN58 = get_profile("generic-cn-58")
KANJI_ON, KANJI_OFF = b"\x1c&", b"\x1c."


def gb(text: str) -> bytes:
    return KANJI_ON + text.encode("gb18030") + KANJI_OFF


def ink_columns(img: Image.Image, top: int = 0, bottom: int | None = None) -> list[int]:
    """x of every column with at least one black dot between rows top and bottom."""
    bottom = img.height if bottom is None else bottom
    px = img.load()
    assert px is not None
    return [x for x in range(img.width) if any(px[x, y] == 0 for y in range(top, bottom))]


def ink_rows(img: Image.Image) -> list[int]:
    px = img.load()
    assert px is not None
    return [y for y in range(img.height) if any(px[x, y] == 0 for x in range(img.width))]


def decoded(img: Image.Image, fmt: str | None = None) -> list[tuple[str, str]]:
    """Every code zxing finds (only those of format `fmt` when given)."""
    if fmt is None:
        found = zxingcpp.read_barcodes(img)
    else:
        found = zxingcpp.read_barcodes(img, formats=getattr(zxingcpp.BarcodeFormat, fmt))
    return sorted((r.format.name, r.text) for r in found)


def qr_bytes(data: bytes, size: int = 4, ec: int = 0x31) -> bytes:
    return (b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C" + bytes([size])
            + b"\x1d(k\x03\x001E" + bytes([ec])
            + b"\x1d(k" + (len(data) + 3).to_bytes(2, "little") + b"1P0" + data
            + b"\x1d(k\x03\x001Q0")


# -- paper and text -----------------------------------------------------------------------------
def test_paper_is_profile_width_white_with_black_ink() -> None:
    img = render_bytes(gb("永盛") + b"\n", CN58)
    assert img.mode == "1" and img.width == 384
    assert img.getpixel((383, 0)) == 255
    assert ink_columns(img)


def test_han_line_is_24_dots_per_character_each_cell_inked() -> None:
    text = "重庆江北建材旗舰店"
    img = render_bytes(gb(text) + b"\n", CN80)
    cols = ink_columns(img)
    assert max(cols) < 24 * len(text)
    for k in range(len(text)):
        assert any(24 * k <= x < 24 * (k + 1) for x in cols), f"no ink for {text[k]}"
    assert ink_rows(img) and max(ink_rows(img)) < 24


def test_mixed_line_keeps_ascii_at_12_dots() -> None:
    img = render_bytes(gb("合页") + b" 4x\n", CN80)  # 2 Han + 3 ASCII = 7 columns = 84 dots
    cols = ink_columns(img)
    assert max(cols) < 84 and any(x >= 72 for x in cols)


def test_center_and_right_alignment() -> None:
    centered = ink_columns(render_bytes(b"\x1ba\x01" + gb("永盛五金店") + b"\n", CN80))
    assert abs((min(centered) + max(centered)) / 2 - 288) < 14
    right = ink_columns(render_bytes(b"\x1ba\x02" + gb("永盛五金店") + b"\n", CN80))
    assert max(right) >= 576 - 4 and min(right) >= 576 - 120


def test_double_size_text_is_twice_as_wide_and_high() -> None:
    img = render_bytes(b"\x1d!\x11" + gb("元") + b"\n", CN80)
    assert 24 < max(ink_columns(img)) < 48
    assert 24 < max(ink_rows(img)) < 48


def test_bold_adds_ink_and_underline_draws_a_rule() -> None:
    plain = render_bytes(gb("合计") + b"\n", CN80)
    bold = render_bytes(b"\x1bE\x01" + gb("合计") + b"\n", CN80)
    assert bold.histogram()[0] > plain.histogram()[0]
    under = render_bytes(b"\x1b-\x01" + b"Total\n", CN80)
    assert len([x for x in ink_columns(under, 21, 24)]) >= 5 * 12 - 2


def test_lines_advance_by_line_spacing() -> None:
    img = render_bytes(b"\x1b3\x40a\nb\n", CN80)
    assert img.height == 128


def test_raster_is_placed_as_is() -> None:
    data = bytes([0b10100000, 0xFF, 0x0F, 0x00])
    img = render_bytes(b"x\n" + b"\x1dv0\x00\x02\x00\x02\x00" + data, CN80)
    expected = unpack_bits(2, 2, data)
    assert img.crop((0, 30, 16, 32)).tobytes() == expected.tobytes()
    assert img.height == 32


def test_feed_and_cut_take_paper() -> None:
    img = render([Feed(100), Cut(False)], CN80)
    assert img.height == 124
    assert not ink_rows(img.crop((0, 0, 576, 100)))
    assert len(ink_columns(img, 100, 124)) > 576 // 2


def test_partial_cut_leaves_a_bridge() -> None:
    img = render([Cut(True)], CN80)
    assert not [x for x in ink_columns(img) if 240 <= x < 340]


def test_drawer_marker_only_when_asked() -> None:
    assert render([Drawer(2, 100, 200)], CN80, markers=False).height == 1
    assert ink_columns(render([Drawer(2, 100, 200)], CN80))


def test_line_events_render_without_profile_specific_state() -> None:
    line = Line((Span("永盛", columns=4, widths=(2, 2)),), "left", 1, 30)
    assert max(ink_columns(render([line], CN80))) < 48


# -- codes scan back ----------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    "https://shop.example.cn/订单/XS-20261129-0041",
    "永盛装饰工程有限公司 K001",
    "6901234500024",
])
def test_qr_code_decodes_to_exact_data(data: str) -> None:
    img = render_bytes(b"\x1ba\x01" + qr_bytes(data.encode(), size=4), CN80)
    assert decoded(img) == [("QRCode", data)]


@pytest.mark.parametrize(("size", "ec"), [(1, 0x30), (3, 0x33), (8, 0x32)])
def test_qr_module_size_and_error_levels(size: int, ec: int) -> None:
    img = render_bytes(qr_bytes(b"XS-20261129-0042", size=size, ec=ec), CN80)
    found = zxingcpp.read_barcodes(img)
    assert [r.text for r in found] == ["XS-20261129-0042"]
    qr = qr_image(QR("XS-20261129-0042", size, "L"), 576)
    assert qr.width % size == 0 and qr.width // size == 21 + 8


def test_qr_too_wide_for_the_paper_shrinks_its_modules() -> None:
    img = qr_image(QR("https://shop.example.cn/" + "x" * 200, 16, "H"), 384)
    assert img.width <= 384
    assert [r.text for r in zxingcpp.read_barcodes(img)] == ["https://shop.example.cn/" + "x" * 200]


@pytest.mark.parametrize(("cmd", "fmt", "text"), [
    (b"\x1dkA\x0c012345678905", "UPCA", "012345678905"),
    (b"\x1dkC\x0d6901234567892", "EAN13", "6901234567892"),
    (b"\x1dkD\x0896385074", "EAN8", "96385074"),
    (b"\x1dkE\x07ABC-123", "Code39", "ABC-123"),
    (b"\x1dkF\x0812345678", "ITF", "12345678"),
    (b"\x1dkI\x0b{BJC-1001/A", "Code128", "JC-1001/A"),
])
@pytest.mark.parametrize("module", [2, 3])
def test_barcodes_decode_to_exact_data(cmd: bytes, fmt: str, text: str, module: int) -> None:
    img = render_bytes(b"\x1dh\x50\x1dw" + bytes([module]) + b"\x1dH\x02\x1ba\x01" + cmd, CN80)
    if fmt == "UPCA":
        # A UPC-A symbol is an EAN-13 with a leading 0; zxing-cpp 3 reports that 13-digit form.
        ((got_fmt, got),) = decoded(img, fmt)
        assert got_fmt == fmt and got in (text, "0" + text)
    else:
        assert decoded(img) == [(fmt, text)]


def test_barcode_hri_text_above_and_below() -> None:
    bare = barcode_image(Barcode("EAN13", "6901234567892", 80, 2, 0), 576)
    both = barcode_image(Barcode("EAN13", "6901234567892", 80, 2, 3), 576)
    assert bare.height == 80
    assert both.height == 80 + 2 * (24 + 4)
    assert ink_rows(both)[0] < 24 and ink_rows(both)[-1] >= 80 + 28


def test_invalid_or_unsupported_barcode_draws_a_note_instead() -> None:
    for ev in (Barcode("EAN13", "12AB", 80, 2, 0), Barcode("CODE93", "ABC", 80, 2, 0)):
        img = barcode_image(ev, 384)
        assert img.height < 80 and ink_columns(img)


def test_a_whole_receipt_scans_and_reads() -> None:
    receipt = (b"\x1b@\x1ba\x01\x1d!\x11" + gb("重庆江北建材旗舰店") + b"\n\x1d!\x00\x1ba\x00"
               + gb("不锈钢合页 4寸") + b"  x40  340.00\n"
               + b"\x1ba\x01\x1dh\x40\x1dw\x02\x1dH\x02\x1dkC\x0d6901234567892"
               + qr_bytes("https://shop.example.cn/订单/XS-20261129-0041".encode())
               + b"\x1dVA\x03")
    img = render_bytes(receipt, CN80)
    assert decoded(img) == [("EAN13", "6901234567892"),
                            ("QRCode", "https://shop.example.cn/订单/XS-20261129-0041")]


# -- output -------------------------------------------------------------------------------------
def test_to_png_round_trips() -> None:
    img = render_bytes(gb("谢谢惠顾") + b"\n", CN80)
    png = to_png(img)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    back = Image.open(io.BytesIO(png))
    assert back.size == img.size and back.convert("1").tobytes() == img.tobytes()


def test_raster_wider_than_paper_is_cropped() -> None:
    wide = Image.new("1", (1000, 2), 0)
    assert render([Raster(wide, "center")], CN58).size == (384, 2)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_render(data: bytes) -> None:
    img = render_bytes(data, CN58)
    assert img.width == 384 and img.height >= 1
