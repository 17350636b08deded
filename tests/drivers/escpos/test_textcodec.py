"""Text planning per printer profile: runs, code pages, Kanji mode, columns."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.escpos.textcodec import (
    DBCS_CODECS,
    Run,
    columns,
    needs_raster,
    normalize,
    plan,
    run_bytes,
    widths,
)
from drivers.profiles import PrinterProfile, get_profile

PROFILES = ("generic-cn-80", "generic-cn-58", "epson-tm-t88", "epson-utf8-80", "raster-80",
            "generic-tw-80")
MIXED = "价格 12.50 é"


def test_mixed_text_under_gb18030_splits_into_runs() -> None:
    runs = plan(MIXED, get_profile("generic-cn-80"))
    assert runs == [Run("dbcs", "价格", bytes.fromhex("bcdb b8f1")),
                    Run("ascii", " 12.50 ", b" 12.50 "),
                    Run("page", "é", b"\x82", 0)]
    data, page = run_bytes(runs, get_profile("generic-cn-80"), None)
    assert data == b"\x1c&\xbc\xdb\xb8\xf1\x1c. 12.50 \x1bt\x00\x82"
    assert page == 0


def test_a_mixed_string_is_never_sent_whole_as_gb18030() -> None:
    p = get_profile("generic-cn-80")
    data, _ = run_bytes(plan(MIXED, p), p, None)
    assert data != MIXED.encode("gb18030")
    assert "é".encode("gb18030") not in data  # A8 A6 would print as a Han-block glyph


def test_code_page_is_chosen_to_avoid_switching() -> None:
    p = get_profile("generic-cn-80")
    # cp858 carries both é and €, cp437 only é: one ESC t for the pair.
    assert run_bytes(plan("é€", p), p, None)[0] == b"\x1bt\x13\x82\xd5"
    # Already on page 19: no ESC t at all; é is 0x82 in cp858 too.
    assert run_bytes(plan("é", p, 19), p, 19) == (b"\x82", 19)
    # Page 0 carries é; € needs a switch.
    assert run_bytes(plan("é €", p, 0), p, 0)[0] == b"\x82 \x1bt\x13\xd5"


def test_double_byte_punctuation_and_latin_choices() -> None:
    p = get_profile("generic-cn-80")
    # Full-width comma is W: double-byte. Em dash is ambiguous width and absent from both
    # code pages: double-byte too. × is in cp858.
    assert [r.kind for r in plan("，—×", p)] == ["dbcs", "page"]
    assert plan("×", p)[0].data == b"\x9e"


def test_epson_without_kanji_sends_latin_by_code_page_and_marks_han_unencodable() -> None:
    p = get_profile("epson-tm-t88")
    runs = plan("Total — €12", p)
    assert not needs_raster(runs, p)
    assert run_bytes(runs, p, None)[0] == b"Total \x1bt\x10\x97 \x80" + b"12"
    assert needs_raster(plan("价格", p), p)


def test_utf8_profile_sends_utf8() -> None:
    p = get_profile("epson-utf8-80")
    runs = plan(MIXED, p)
    assert [r.kind for r in runs] == ["utf8", "ascii", "utf8"]
    assert run_bytes(runs, p, None)[0] == MIXED.encode("utf-8")


def test_big5_profile() -> None:
    p = get_profile("generic-tw-80")
    assert run_bytes(plan("價格 5", p), p, None)[0] == b"\x1c&\xbb\xf9\xae\xe6\x1c. 5"
    assert needs_raster(plan("不锈钢", p), p)  # simplified 锈 is not in Big5


def test_kanji_always_on_printer_cannot_use_code_pages() -> None:
    p = replace(get_profile("generic-cn-80"), kanji_toggle=False)
    runs = plan("价é", p)
    assert [r.kind for r in runs] == ["dbcs"]
    assert run_bytes(runs, p, None)[0] == "价é".encode("gb18030")  # no FS & / FS .


def test_gbk_single_byte_euro_is_not_taken_as_double_byte() -> None:
    p = replace(get_profile("generic-cn-80"), dbcs="gbk", code_pages=((0, "cp437"),))
    assert [r.kind for r in plan("€", p)] == ["unencodable"]


def test_raster_profile_rasterizes_everything() -> None:
    p = get_profile("raster-80")
    assert needs_raster(plan("abc", p), p)
    with pytest.raises(ValueError, match="raster"):
        run_bytes(plan("价", get_profile("epson-tm-t88")), get_profile("epson-tm-t88"), None)


@pytest.mark.parametrize("name", PROFILES)
def test_a_han_character_takes_two_columns_everywhere(name: str) -> None:
    p = get_profile(name)
    assert columns("价", p) == 2
    assert columns("a", p) == 1
    assert columns("é", p) == 1
    assert widths(MIXED, p) == [2, 2, 1, 1, 1, 1, 1, 1, 1, 1]


def test_double_byte_ambiguous_characters_are_two_columns_only_when_sent_double_byte() -> None:
    assert columns("—", get_profile("generic-cn-80")) == 2
    assert columns("—", get_profile("epson-tm-t88")) == 1
    assert columns("—", get_profile("raster-80")) == 1


def test_normalize() -> None:
    assert normalize("e\u0301\r\nA\tB\x1b@\u200bC\rD") == "é\nA B@C\nD"
    assert normalize("价格 12.50") == "价格 12.50"


# -- round trip: what the printer reads back is what we meant -------------------------------

def printer_reads(data: bytes, p: PrinterProfile) -> str:
    """A reference reading of text bytes as the contract describes the printer's behaviour."""
    pages = dict(p.code_pages)
    page: int | None = None
    kanji = p.dbcs in DBCS_CODECS and not p.kanji_toggle
    out, i = [], 0
    while i < len(data):
        two = data[i:i + 2]
        if two == b"\x1bt":
            page, i = data[i + 2], i + 3
        elif two in (b"\x1c&", b"\x1c."):
            kanji, i = two == b"\x1c&", i + 2
        elif data[i] < 0x80:
            out.append(chr(data[i]))
            i += 1
        elif p.dbcs == "utf8":
            n = 2 if data[i] < 0xE0 else 3 if data[i] < 0xF0 else 4
            out.append(data[i:i + n].decode("utf-8"))
            i += n
        elif kanji:
            n = 4 if p.dbcs == "gb18030" and 0x30 <= data[i + 1] <= 0x39 else 2
            out.append(data[i:i + n].decode(p.dbcs))
            i += n
        else:
            assert page is not None, "a code-page byte before any ESC t"
            out.append(bytes((data[i],)).decode(pages[page]))
            i += 1
    return "".join(out)


TEXT = st.text(alphabet=st.sampled_from(
    "价格合计数量不锈钢合页静音抽屉滑轨十字沉头自攻螺丝價錢，。（）“”—×·éüñ€£°¥ab 12.#"),
    max_size=40) | st.text(max_size=20)


@settings(max_examples=150, deadline=None)
@given(text=TEXT, name=st.sampled_from(PROFILES), start=st.sampled_from([None, 0, 19]))
def test_native_bytes_read_back_as_the_text(text: str, name: str, start: int | None) -> None:
    p = get_profile(name)
    text = normalize(text).replace("\n", "")
    runs = plan(text, p, start)
    assert "".join(r.text for r in runs) == text
    if needs_raster(runs, p):
        assert p.dbcs == "raster" or any(r.kind == "unencodable" for r in runs)
        return
    data, _ = run_bytes(runs, p, start)
    prefix = b"" if start is None else b"\x1bt" + bytes((start,))
    assert printer_reads(prefix + data, p) == text
