"""The ESC/POS interpreter against hand-written command bytes (the contract's command set)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.escpos.interpreter import EscposInterpreter, decode_text
from drivers.escpos.paper_events import (
    QR,
    Barcode,
    Beep,
    Cut,
    Drawer,
    Feed,
    Line,
    PaperEvent,
    Raster,
    Span,
    StatusRequest,
    Unknown,
)
from drivers.profiles import PrinterProfile, get_profile

CN80 = get_profile("generic-cn-80")
TW80 = get_profile("generic-tw-80")
UTF8 = get_profile("epson-utf8-80")
TM88 = get_profile("epson-tm-t88")
ALWAYS_KANJI = replace(CN80, name="always-kanji", kanji_toggle=False)

INIT = b"\x1b@"
KANJI_ON, KANJI_OFF = b"\x1c&", b"\x1c."
STORE = "重庆江北建材旗舰店"
CUSTOMER = "永盛装饰工程有限公司"
ADDRESS = "重庆市渝北区两路镇空港大道88号"


def gb(text: str) -> bytes:
    return KANJI_ON + text.encode("gb18030") + KANJI_OFF


def run(data: bytes, profile: PrinterProfile = CN80) -> list[PaperEvent]:
    interp = EscposInterpreter(profile)
    interp.feed(data)
    interp.close()
    return interp.events()


def lines(data: bytes, profile: PrinterProfile = CN80) -> list[Line]:
    return [e for e in run(data, profile) if isinstance(e, Line)]


def raster(width_bytes: int, rows: int, data: bytes, m: int = 0) -> bytes:
    return (b"\x1dv0" + bytes([m]) + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
            + data)


def qr_store(data: bytes) -> bytes:
    return b"\x1d(k" + (len(data) + 3).to_bytes(2, "little") + b"1P0" + data


# -- text ---------------------------------------------------------------------------------------
def test_gb18030_text_in_kanji_mode_decodes_back_to_chinese() -> None:
    data = INIT + gb(STORE) + b"\n" + gb(CUSTOMER) + b"\n" + gb(ADDRESS) + b"\n"
    assert decode_text(data, CN80) == [STORE, CUSTOMER, ADDRESS]


def test_double_byte_characters_take_two_columns_ascii_one() -> None:
    (line,) = lines(gb("合页 4寸") + b"\n")
    (span,) = line.spans
    assert span.text == "合页 4寸"
    assert span.widths == (2, 2, 1, 1, 2)
    assert span.columns == 8


def test_gb18030_four_byte_sequences_are_one_character() -> None:
    text = "𠀀€䶶"  # U+20000 and U+4DB6 are four-byte in GB 18030
    assert len("𠀀".encode("gb18030")) == 4
    (line,) = lines(gb(text) + b"\n")
    assert line.text == text
    assert line.spans[0].widths == (2, 2, 2)


def test_without_kanji_mode_high_bytes_are_code_page_characters() -> None:
    data = "你".encode("gb18030") + b"\n"  # C4 E3 → two cp437 characters
    assert decode_text(data, CN80) == [b"\xc4\xe3".decode("cp437")]


def test_esc_t_selects_a_profile_code_page() -> None:
    data = b"\x1bt\x13" + b"\xd5" + b"\x1bt\x00" + b"\xd5\n"
    assert decode_text(data, CN80) == ["€" + b"\xd5".decode("cp437")]


def test_a_printer_without_kanji_toggle_is_always_in_kanji_mode() -> None:
    data = STORE.encode("gb18030") + b"\n"
    assert decode_text(data, ALWAYS_KANJI) == [STORE]
    assert decode_text(INIT + data, ALWAYS_KANJI) == [STORE]


def test_big5_profile_decodes_traditional_chinese() -> None:
    data = KANJI_ON + "臺灣高雄門市".encode("big5") + KANJI_OFF + b"\n"
    assert decode_text(data, TW80) == ["臺灣高雄門市"]


def test_a_printer_without_double_byte_font_ignores_fs_ampersand() -> None:
    data = KANJI_ON + "你".encode("gb18030") + b"\n"
    assert decode_text(data, TM88) == [b"\xc4\xe3".decode("cp437")]


def test_utf8_mode_selected_by_fs_paren_c() -> None:
    on, off = b"\x1c(C\x02\x000\x02", b"\x1c(C\x02\x000\x01"
    data = on + (STORE + " é").encode() + b"\n" + off + b"\x82\n"
    (first, second) = lines(data, UTF8)
    assert first.text == STORE + " é"
    assert first.spans[0].columns == 2 * len(STORE) + 2
    assert second.text == b"\x82".decode("cp437")


def test_invalid_double_byte_sequence_gives_replacement_and_keeps_the_command() -> None:
    data = KANJI_ON + b"\xb0\n" + "好".encode("gb18030") + b"\n"
    assert decode_text(data, CN80) == ["\ufffd", "好"]


def test_styles_make_spans() -> None:
    data = (b"\x1bE\x01" + gb("合计") + b"\x1bE\x00\x1b-\x01 12.50\x1b-\x00\x1d!\x11" + gb("元")
            + b"\n")
    (line,) = lines(data)
    assert line.spans == (
        Span("合计", True, 0, 1, 1, 4, (2, 2)),
        Span(" 12.50", False, 1, 1, 1, 6, (1,) * 6),
        Span("元", False, 0, 2, 2, 2, (2,)),
    )
    assert line.height_mult == 2
    assert line.advance == 48


def test_esc_bang_sets_print_mode_bits() -> None:
    (line,) = lines(b"\x1b!\xb8A\n")
    assert line.spans == (Span("A", True, 1, 2, 2, 1, (1,)),)


def test_line_spacing_and_advance() -> None:
    out = lines(b"\x1b3\x40a\n\x1b2b\n\x1b3\x05c\n")
    assert [ln.advance for ln in out] == [64, 30, 24]


def test_alignment_applies_to_the_line_being_started() -> None:
    data = b"\x1ba\x01" + gb("欢迎光临") + b"\x1ba\x02" + b"x\n" + b"y\n"
    first, second = lines(data)
    assert (first.align, second.align) == ("center", "right")


def test_text_wider_than_the_paper_wraps() -> None:
    text = "永盛" * 15  # 30 Han characters; 576 dots hold 24
    out = lines(gb(text) + b"\n")
    assert [ln.text for ln in out] == [text[:24], text[24:]]
    assert decode_text(gb(text) + b"\n", get_profile("generic-cn-58")) == [text[:16], text[16:]]


def test_init_resets_styles_modes_and_discards_the_unprinted_line() -> None:
    data = (b"\x1bE\x01\x1d!\x11\x1ba\x01" + KANJI_ON + b"\x1c(C\x02\x000\x02" + b"lost"
            + INIT + "好".encode("gb18030") + b"\n")
    (line,) = lines(data)
    assert line.align == "left"
    assert line.spans == (Span(b"\xba\xc3".decode("cp437"), False, 0, 1, 1, 2, (1, 1)),)


def test_tab_moves_to_the_next_eight_column_stop() -> None:
    (line,) = lines(b"ab\tc\n")
    assert line.text == "ab      c"


def test_blank_lines_and_decode_text_leaves_them_out() -> None:
    data = b"\n" + gb("你好") + b"\n\n"
    assert [ln.text for ln in lines(data)] == ["", "你好", ""]
    assert decode_text(data, CN80) == ["你好"]


def test_close_prints_a_pending_line() -> None:
    assert run(gb("未完")) == [Line((Span("未完", columns=4, widths=(2, 2)),))]


# -- feeds, cut, drawer, buzzer, status ---------------------------------------------------------
def test_print_and_feed_commands() -> None:
    assert run(b"a\x1bd\x03") == [Line((Span("a", columns=1, widths=(1,)),)), Feed(60)]
    assert run(b"\x1bJ\x50") == [Feed(80)]
    assert run(b"b\x1bJ\x50") == [Line((Span("b", columns=1, widths=(1,)),), advance=80)]


@pytest.mark.parametrize(("cmd", "events"), [
    (b"\x1dVA\x03", [Feed(3), Cut(False)]),
    (b"\x1dVB\x00", [Cut(True)]),
    (b"\x1dV\x00", [Cut(False)]),
    (b"\x1dV1", [Cut(True)]),
    (b"\x1bi", [Cut(True)]),
])
def test_cuts(cmd: bytes, events: list[PaperEvent]) -> None:
    assert run(cmd) == events


def test_cut_prints_the_pending_line_first() -> None:
    events = run(gb("谢谢惠顾") + b"\x1dVA\x00")
    assert isinstance(events[0], Line) and events[0].text == "谢谢惠顾"
    assert events[1:] == [Cut(False)]


def test_drawer_beep_and_status_requests() -> None:
    data = (b"\x1bp\x00\x32\x64" b"\x1bp\x01\x05\x05" b"\x1bB\x03\x02" b"\x10\x04\x01\x10\x04\x04"
            b"\x10\x14\x01\x00\x02")
    assert run(data) == [Drawer(2, 100, 200), Drawer(5, 10, 10), Beep(3, 200), StatusRequest(1),
                         StatusRequest(4), Drawer(2, 200, 200)]


def test_status_request_does_not_print_the_pending_line() -> None:
    interp = EscposInterpreter(CN80)
    interp.feed(gb("打印中") + b"\x10\x04\x02")
    assert interp.events() == [StatusRequest(2)]
    interp.feed(b"\n")
    assert [type(e) for e in interp.events()] == [Line]


# -- raster, barcodes, QR -----------------------------------------------------------------------
def test_raster_image_bits_msb_first_one_is_black() -> None:
    (ev,) = run(b"\x1ba\x01" + raster(2, 2, b"\x80\x01\xff\x00"))
    assert isinstance(ev, Raster) and ev.align == "center"
    assert ev.image.size == (16, 2) and ev.image.mode == "1"
    assert [ev.image.getpixel((x, 0)) for x in (0, 1, 15)] == [0, 255, 0]
    assert [ev.image.getpixel((x, 1)) for x in (0, 7, 8)] == [0, 0, 255]


def test_split_raster_chunks_stay_separate_events() -> None:
    events = run(raster(1, 3, b"\xff" * 3) + raster(1, 2, b"\x00" * 2))
    assert [e.image.size for e in events if isinstance(e, Raster)] == [(8, 3), (8, 2)]


def test_raster_double_size_mode() -> None:
    (ev,) = run(raster(1, 1, b"\x80", m=3))
    assert isinstance(ev, Raster) and ev.image.size == (16, 2)


def test_status_bytes_inside_image_data_are_image_data() -> None:
    events = run(raster(3, 2, b"\x10\x04\x01" * 2) + b"\x10\x04\x01")
    assert [type(e) for e in events] == [Raster, StatusRequest]


def test_huge_raster_header_is_rejected_and_parsing_resumes() -> None:
    header = raster(0x1000, 0x0A00, b"")  # claims 40 MB
    events = run(header + b"OK\n")
    assert events[0] == Unknown(header)
    assert isinstance(events[1], Line) and events[1].text == "OK"


@pytest.mark.parametrize(("cmd", "symbology", "data"), [
    (b"\x1dkA\x0c012345678905", "UPC-A", "012345678905"),
    (b"\x1dkC\x0d6901234567892", "EAN13", "6901234567892"),
    (b"\x1dkD\x0896385074", "EAN8", "96385074"),
    (b"\x1dkE\x07ABC-123", "CODE39", "ABC-123"),
    (b"\x1dkF\x0812345678", "ITF", "12345678"),
    (b"\x1dkI\x0b{BJC-1001/A", "CODE128", "JC-1001/A"),
    (b"\x1dkI\x05{C\x0c\x22\x38", "CODE128", "123456"),
    (b"\x1dk\x04ABC\x00", "CODE39", "ABC"),
])
def test_barcodes(cmd: bytes, symbology: str, data: str) -> None:
    events = run(b"\x1dh\x50\x1dw\x02\x1dH\x02\x1df\x00\x1ba\x01" + cmd)
    assert events == [Barcode(symbology, data, 80, 2, 2, "center")]


def test_qr_code_sequence() -> None:
    url = "https://shop.example.cn/订单/XS-20261129-0041".encode()
    data = (b"\x1d(k\x04\x001A2\x00" + b"\x1d(k\x03\x001C\x06" + b"\x1d(k\x03\x001E2"
            + qr_store(url) + b"\x1d(k\x03\x001Q0")
    (ev,) = run(data)
    assert ev == QR(url.decode(), 6, "Q")
    assert isinstance(ev, QR) and ev.raw == url


def test_qr_print_without_stored_data_prints_nothing() -> None:
    assert run(b"\x1d(k\x03\x001Q0") == []


def test_qr_data_that_is_not_utf8_round_trips() -> None:
    (ev,) = run(qr_store(b"\xc4\xe3\xff") + b"\x1d(k\x03\x001Q0")
    assert isinstance(ev, QR) and ev.raw == b"\xc4\xe3\xff"


# -- skipping and garbage -----------------------------------------------------------------------
@pytest.mark.parametrize("cmd", [
    b"\x1bM\x00", b"\x1b \x02", b"\x1b$\x10\x00", b"\x1dL\x00\x00", b"\x1dW\x40\x02",
    b"\x1b*\x21\x02\x00" + b"\x10\x04\x01" * 2, b"\x1bD\x08\x10\x00", b"\x1da\xff",
    b"\x1d(L\x06\x000p0\x01\x01\x31", b"\x1d8L\x03\x00\x00\x00\x10\x04\x01", b"\x1c!\x0c",
    b"\x1d*\x01\x01" + b"\x10\x04\x01\x00" * 2, b"\x1cg1\x00\x00\x00\x00\x00\x02\x00ab",
    b"\x1b&\x03\x41\x41\x01\x10\x04\x01", b"\x10\x05\x01", b"\x10\x04\x07\x01", b"\r", b"\x00",
])
def test_known_commands_are_skipped_silently(cmd: bytes) -> None:
    assert run(cmd + gb("好") + b"\n") == [Line((Span("好", columns=2, widths=(2,)),))]


@pytest.mark.parametrize(("data", "unknown"), [
    (b"\x1b\x01", b"\x1b\x01"), (b"\x07", b"\x07"), (b"\x1d\x01", b"\x1d\x01"),
    (b"\x1dv1", b"\x1dv1"), (b"\x1dk\x20", b"\x1dk\x20"), (b"\x10\x41", b"\x10"),
])
def test_unknown_commands_become_unknown_events(data: bytes, unknown: bytes) -> None:
    events = run(data + b"ok\n")
    assert events[0] == Unknown(unknown)
    assert isinstance(events[-1], Line) and events[-1].text.endswith("ok")


def test_partial_command_at_close_is_unknown() -> None:
    assert run(b"\x1d(k\x10\x00") == [Unknown(b"\x1d(k\x10\x00")]


def test_skipped_commands_stream_without_buffering() -> None:
    interp = EscposInterpreter(CN80)
    interp.feed(b"\x1d8L" + (50_000_000).to_bytes(4, "little") + b"\x00" * 1000)
    assert interp.events() == [] and interp.position == 1007


def test_events_at_gives_stream_offsets() -> None:
    interp = EscposInterpreter(CN80)
    interp.feed(b"ab\n\x10\x04\x01\x1dVB\x00")
    assert [off for off, _ in interp.events_at()] == [3, 6, 10]


# -- properties ---------------------------------------------------------------------------------
TOKENS = [
    INIT, b"\n", b"\x1bE\x01", b"\x1bE\x00", b"\x1d!\x11", b"\x1d!\x00", b"\x1ba\x01",
    gb("永盛五金店"), gb("𠀀"), KANJI_ON, KANJI_OFF, "你好".encode("gb18030"),
    b"\x1c(C\x02\x000\x02", "重庆".encode(), b"\x1c(C\x02\x000\x01", b"\x1bt\x13\xd5",
    raster(2, 3, bytes(range(6))), b"\x1dkI\x0b{BJC-1001/A", qr_store(b"https://x.cn/1"),
    b"\x1d(k\x03\x001Q0", b"\x1dVA\x03", b"\x10\x04\x01", b"\x1bp\x00\x32\x64", b"Total 12.50",
    b"\x1d8L\x02\x00\x00\x00ab", b"\x1bd\x02", b"\t",
]


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=12)),
                          max_size=25))
    return b"".join(parts)


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted(set(cuts))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def events_in_pieces(profile: PrinterProfile, pieces: list[bytes]) -> list[tuple[int, PaperEvent]]:
    interp = EscposInterpreter(profile)
    got: list[tuple[int, PaperEvent]] = []
    for piece in pieces:
        interp.feed(piece)
        got += interp.events_at()
    interp.close()
    return got + interp.events_at()


PROFILES = st.sampled_from([CN80, TW80, UTF8, ALWAYS_KANJI])


@settings(max_examples=300, deadline=None)
@given(data=streams(), profile=PROFILES, draw=st.data())
def test_any_chunking_gives_the_same_events(data: bytes, profile: PrinterProfile,
                                            draw: st.DataObject) -> None:
    cuts = draw.draw(st.lists(st.integers(0, len(data)), max_size=16))
    assert events_in_pieces(profile, chunked(data, cuts)) == events_in_pieces(profile, [data])


@settings(max_examples=100, deadline=None)
@given(data=streams(), profile=PROFILES)
def test_byte_by_byte_gives_the_same_events(data: bytes, profile: PrinterProfile) -> None:
    one_by_one = [data[k:k + 1] for k in range(len(data))]
    assert events_in_pieces(profile, one_by_one) == events_in_pieces(profile, [data])


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_never_raise_and_are_all_consumed(data: bytes) -> None:
    interp = EscposInterpreter(CN80)
    interp.feed(data)
    interp.close()
    interp.events()
    assert interp.position == len(data)


def test_raster_event_image_is_a_pil_image() -> None:
    (ev,) = run(raster(1, 1, b"\xff"))
    assert isinstance(ev, Raster) and isinstance(ev.image, Image.Image)
