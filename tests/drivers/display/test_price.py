"""Chinese LED price display bytes, checked against the table in docs/devices.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.display.price import (
    LAMP_LABELS,
    Lamp,
    clear,
    format_fen,
    init,
    select_lamp,
    show_amount,
    show_number,
)


def test_command_table() -> None:
    assert init() == bytes.fromhex("1b 40")
    assert clear() == bytes.fromhex("0c")
    assert show_number("12.50") == bytes.fromhex("1b 51 41 31 32 2e 35 30 0d")


@pytest.mark.parametrize(
    ("label", "lamp", "code"),
    [
        ("", Lamp.OFF, "1b 73 30"),
        ("单价", Lamp.UNIT_PRICE, "1b 73 31"),
        ("总计", Lamp.TOTAL, "1b 73 32"),
        ("收款", Lamp.RECEIVED, "1b 73 33"),
        ("找零", Lamp.CHANGE, "1b 73 34"),
    ],
)
def test_lamps_by_chinese_caption(label: str, lamp: Lamp, code: str) -> None:
    assert lamp.label == label == LAMP_LABELS[lamp]
    if label:
        assert Lamp.from_label(label) is lamp
    assert select_lamp(lamp) == bytes.fromhex(code)


def test_change_of_three_fifty() -> None:
    assert show_amount(Lamp.from_label("找零"), 350) == bytes.fromhex(
        "1b 73 34 1b 51 41 33 2e 35 30 0d"
    )


def test_total_of_a_catalog_order() -> None:
    # 2 × 不锈钢合页 (8.50) + 1 × 静音抽屉滑轨 (36.00) = 53.00
    assert show_amount(Lamp.TOTAL, 2 * 850 + 3600) == bytes.fromhex(
        "1b 73 32 1b 51 41 35 33 2e 30 30 0d"
    )


@pytest.mark.parametrize(
    ("fen", "text"), [(1250, "12.50"), (5, "0.05"), (0, "0.00"), (99_999_999, "999999.99")]
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: format_fen(-1), "fen"),
        (lambda: format_fen(True), "fen"),
        (lambda: show_amount(Lamp.TOTAL, 100_000_000), "number"),
        (lambda: show_number(""), "number"),
        (lambda: show_number("."), "number"),
        (lambda: show_number("1.2.3"), "number"),
        (lambda: show_number("12,50"), "number"),
        (lambda: show_number("１２"), "number"),  # full-width digits
        (lambda: select_lamp(5), "lamp"),
        (lambda: Lamp.from_label("合计"), "lamp"),
    ],
)
def test_bad_values_are_invalid_input(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        call()  # type: ignore[operator]
    assert exc.value.field == field


@given(fen=st.integers(0, 99_999_999), lamp=st.sampled_from(list(Lamp)))
def test_every_amount_encodes_as_lamp_then_yuan_digits(fen: int, lamp: Lamp) -> None:
    data = show_amount(lamp, fen)
    assert data[:3] == bytes([0x1B, 0x73, 0x30 + lamp])
    assert data[3:6] == b"\x1bQA" and data[-1:] == b"\r"
    whole, frac = data[6:-1].decode("ascii").split(".")
    assert int(whole) * 100 + int(frac) == fen and len(frac) == 2
