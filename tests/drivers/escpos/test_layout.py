"""Width-aware layout: wrapping, cells and rules never exceed the paper's columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.escpos.document import ALIGNS, Align, Cell
from drivers.escpos.layout import cell_widths, columns_lines, line_columns, pad, rule_line, wrap
from drivers.escpos.textcodec import measure
from drivers.profiles import get_profile

CN80 = measure(get_profile("generic-cn-80"))
# Product names from the sample catalogue (building materials, frozen food, telecom retail).
NAMES = ("不锈钢合页 4寸", "静音抽屉滑轨 三节", "十字沉头自攻螺丝", "E0级生态板",
         "净味全效墙面漆 白色", "PPR冷热水管 4分", "BV铜芯电线 2.5平方", "猪肉白菜水饺",
         "冷冻去骨鸭掌",
         "智能手机 8+256G 曜石黑", "快充数据线 Type-C", "钢化膜 全屏高清")


def test_a_han_character_counts_two_columns() -> None:
    assert line_columns("价格12", CN80) == 6
    assert wrap("价格价格", 4, CN80) == ["价格", "价格"]


def test_a_double_width_character_is_never_split() -> None:
    assert wrap("价价价", 5, CN80) == ["价价", "价"]
    assert wrap("a价价", 4, CN80) == ["a价", "价"]


def test_words_break_at_spaces_and_han_anywhere() -> None:
    assert wrap("Type-C cable 1m", 10, CN80) == ["Type-C", "cable 1m"]
    assert wrap("快充数据线 Type-C", 12, CN80) == ["快充数据线", "Type-C"]
    assert wrap("冷冻去骨鸭掌", 8, CN80) == ["冷冻去骨", "鸭掌"]
    assert wrap("abcdefghij", 4, CN80) == ["abcd", "efgh", "ij"]  # no break opportunity


def test_closing_punctuation_does_not_start_a_line() -> None:
    assert wrap("你好，世界", 4, CN80) == ["你", "好，", "世界"]
    assert wrap("（白色）", 4, CN80) == ["（白", "色）"]


def test_newlines_break_and_a_trailing_newline_adds_nothing() -> None:
    assert wrap("合计\n找零\n", 48, CN80) == ["合计", "找零"]
    assert wrap("", 48, CN80) == [""]
    assert wrap("a\n\nb", 48, CN80) == ["a", "", "b"]


def test_a_character_wider_than_the_line_is_invalid() -> None:
    with pytest.raises(InvalidInput) as e:
        wrap("价", 1, CN80, "document.blocks[2].text")
    assert e.value.field == "document.blocks[2].text"


def test_pad_aligns_by_display_width() -> None:
    assert pad("价", 5, "right", CN80) == "   价"
    assert pad("价", 6, "center", CN80) == "  价  "
    assert pad("价", 4, "left", CN80) == "价  "


def test_a_long_chinese_product_name_wraps_inside_its_column() -> None:
    cells = (Cell("智能手机 8+256G 曜石黑 全网通版双卡双待", 20), Cell("1", 6, "right"),
             Cell("¥2999.00", None, "right"))
    lines = columns_lines(cells, 48, CN80, "document.blocks[0]")
    assert lines == [
        "智能手机 8+256G 曜石" + "     1" + " " * 14 + "¥2999.00",
        "黑 全网通版双卡双待",
    ]
    assert all(line_columns(line, CN80) <= 48 for line in lines)


def test_cell_widths() -> None:
    cells = (Cell("a", 20), Cell("b"), Cell("c", 10))
    assert cell_widths(cells, 48, "p") == [20, 18, 10]
    assert cell_widths((Cell("a", 10),), 48, "p") == [10]


@pytest.mark.parametrize(("cells", "field"), [
    ((Cell("a", 30), Cell("b", 20)), "document.blocks[3].cells"),
    ((Cell("a", 48), Cell("b")), "document.blocks[3].cells"),
    ((Cell("a"), Cell("b")), "document.blocks[3].cells"),
    ((Cell("a", 0), Cell("b")), "document.blocks[3].cells[0].width"),
    ((Cell("价", 1), Cell("b")), "document.blocks[3].cells[0].text"),
])
def test_bad_cells_are_invalid_at_their_field(cells: tuple[Cell, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        columns_lines(cells, 48, CN80, "document.blocks[3]")
    assert e.value.field == field


def test_widths_over_the_paper_say_by_how_much() -> None:
    with pytest.raises(InvalidInput, match="cells are 50 columns wide, paper is 48"):
        cell_widths((Cell("a", 30), Cell("b", 20)), 48, "document.blocks[3]")


def test_rules() -> None:
    assert rule_line("-", 48, CN80, "p") == "-" * 48
    assert rule_line("＝", 48, CN80, "p") == "＝" * 24
    assert rule_line("＝", 33, CN80, "p") == "＝" * 16
    with pytest.raises(InvalidInput) as e:
        rule_line("\u0301", 48, measure(get_profile("raster-80")), "document.blocks[1]")
    assert e.value.field == "document.blocks[1].char"


HAN = st.sampled_from("".join(NAMES) + "价格合计，。（）")
ASCII = st.sampled_from("abcdefghij0123456789 .-/")
TEXT = st.one_of(st.text(HAN, max_size=30), st.text(ASCII, max_size=30),
                 st.text(st.one_of(HAN, ASCII, st.sampled_from("é—×€ ")), max_size=40),
                 st.sampled_from(NAMES))
PROFILE = st.sampled_from(["generic-cn-80", "generic-cn-58", "epson-tm-t88", "raster-80",
                           "generic-tw-80", "epson-utf8-80"])


@st.composite
def rows(draw: st.DrawFn) -> tuple[str, list[Cell]]:
    name = draw(PROFILE)
    columns = get_profile(name).columns
    n = draw(st.integers(1, 4))
    free = draw(st.none() | st.integers(0, n - 1))
    budget = columns - (2 if free is not None else 0)
    cells = []
    for j in range(n):
        width = None
        if j != free:
            width = draw(st.integers(2, max(2, budget - 2 * (n - j - 1))))
            budget -= width
        align: Align = draw(st.sampled_from(ALIGNS))
        cells.append(Cell(draw(TEXT), width, align))
    return name, cells


@settings(max_examples=200, deadline=None)
@given(row=rows())
def test_no_physical_line_is_wider_than_the_paper(row: tuple[str, list[Cell]]) -> None:
    name, cells = row
    p = get_profile(name)
    m = measure(p)
    try:
        lines = columns_lines(cells, p.columns, m, "document.blocks[0]")
    except InvalidInput as e:
        assert e.field == "document.blocks[0].cells"  # widths over the paper: the only way
        assert sum(c.width or 0 for c in cells) >= p.columns
        return
    for line in lines:
        assert line_columns(line, m) <= p.columns


@settings(max_examples=200, deadline=None)
@given(text=TEXT, limit=st.integers(2, 48), name=PROFILE)
def test_wrapping_keeps_every_character_and_respects_the_limit(text: str, limit: int,
                                                              name: str) -> None:
    m = measure(get_profile(name))
    lines = wrap(text, limit, m)
    assert all(line_columns(line, m) <= limit for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
