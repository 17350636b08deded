"""2×20 customer display bytes, checked against the table in docs/devices.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.display import vfd

SP = b" "


def test_command_table() -> None:
    assert vfd.init() == bytes.fromhex("1b 40")
    assert vfd.clear() == bytes.fromhex("0c")
    assert vfd.overwrite_mode() == bytes.fromhex("1f 01")
    assert vfd.vertical_scroll_mode() == bytes.fromhex("1f 02")
    assert vfd.move_cursor(1, 1) == bytes.fromhex("1f 24 01 01")
    assert vfd.move_cursor(20, 2) == bytes.fromhex("1f 24 14 02")
    assert vfd.cursor_visible(False) == bytes.fromhex("1f 43 00")
    assert vfd.cursor_visible(True) == bytes.fromhex("1f 43 01")
    assert vfd.brightness(4) == bytes.fromhex("1f 58 04")
    assert vfd.setup() == bytes.fromhex("1b 40 1f 01 1f 43 00 0c")


def test_two_chinese_lines_byte_for_byte() -> None:
    expected = (
        bytes.fromhex("1f 24 01 01")
        + bytes.fromhex("ba cf bc c6")  # 合计 in GB18030, 4 cells
        + SP * 16
        + bytes.fromhex("1f 24 01 02")
        + bytes.fromhex("d5 d2 c1 e3")  # 找零
        + SP * 16
    )
    assert vfd.show_lines("合计", "找零") == expected


def test_label_and_amount_on_one_line() -> None:
    line = vfd.label_value("合计", "¥12.50")
    assert line == "合计" + " " * 9 + "¥12.50"
    # ¥ becomes the full-width ￥ (A3 A4), a two-cell GB2312 character.
    assert (
        vfd.fit(line) == bytes.fromhex("ba cf bc c6") + SP * 9 + bytes.fromhex("a3 a4") + b"12.50"
    )
    assert vfd.columns(line) == 20


def test_catalog_name_is_cut_at_twenty_cells() -> None:
    name = "不锈钢合页 4寸 304不锈钢"
    assert vfd.fit(name) == "不锈钢合页 4寸 304不".encode("gb18030")  # 10+1+1+2+1+3+2 cells


def test_a_han_character_is_never_split_at_the_edge() -> None:
    assert vfd.fit("A" + "合" * 10) == b"A" + "合".encode("gb18030") * 9 + SP
    assert vfd.fit("合" * 11) == "合".encode("gb18030") * 10


@pytest.mark.parametrize(
    ("align", "expected"),
    [
        ("left", "找零".encode("gb18030") + SP * 16),
        ("right", SP * 16 + "找零".encode("gb18030")),
        ("center", SP * 8 + "找零".encode("gb18030") + SP * 8),
    ],
)
def test_alignment(align: vfd.Align, expected: bytes) -> None:
    assert vfd.fit("找零", align=align) == expected


def test_control_characters_cannot_inject_commands() -> None:
    assert vfd.fit("\x1b@\x0c合计", width=6) == b"?@?" + "合".encode("gb18030") + SP


def test_characters_without_a_two_byte_code_become_question_marks() -> None:
    assert vfd.encode_char("😀") == b"?"
    assert vfd.encode_char("×") == bytes.fromhex("a1 c1")
    assert vfd.encode_char("A") == b"A"


def test_big5_for_traditional_chinese_displays() -> None:
    assert vfd.fit("合計", width=4, encoding="big5") == "合計".encode("big5")


def test_a_long_label_gives_way_to_the_value() -> None:
    line = vfd.label_value("静音抽屉滑轨三节加长款", "¥36.00")
    assert line == "静音抽屉滑轨 ¥36.00"
    assert vfd.columns(line) == 20


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: vfd.move_cursor(0, 1), "column"),
        (lambda: vfd.move_cursor(21, 1), "column"),
        (lambda: vfd.move_cursor(1, 3), "row"),
        (lambda: vfd.brightness(0), "brightness"),
        (lambda: vfd.fit("x", align="justify"), "align"),  # type: ignore[arg-type]
        (lambda: vfd.fit("x", width=-1), "width"),
        (lambda: vfd.fit("x", encoding="nope"), "encoding"),
    ],
)
def test_bad_arguments_are_invalid_input(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        call()  # type: ignore[operator]
    assert exc.value.field == field


@given(
    text=st.text(max_size=30),
    width=st.integers(0, 40),
    align=st.sampled_from(["left", "right", "center"]),
)
def test_fit_is_always_exactly_width_cells_of_whole_characters(
    text: str, width: int, align: vfd.Align
) -> None:
    data = vfd.fit(text, width, align)
    assert len(data) == width
    decoded = data.decode("gb18030")  # strict: no character was cut in half
    assert all(ord(c) >= 0x20 for c in decoded)
