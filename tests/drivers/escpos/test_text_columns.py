"""Display width of receipt text (drivers/escpos/textcodec.py): Han and full-width take two."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.escpos.textcodec import char_columns, text_columns


@pytest.mark.parametrize(("ch", "cols"), [
    ("a", 1), ("中", 2), ("，", 2), ("Ａ", 2), ("¥", 1), ("ｶ", 1), ("\u0301", 0), ("\u200b", 0),
    ("\ufeff", 0), ("😀", 2)])
def test_columns_of_one_character(ch: str, cols: int) -> None:
    assert char_columns(ch) == cols


def test_columns_of_a_receipt_line() -> None:
    assert text_columns("合计 ¥12.50") == 2 * 2 + 1 + 6
    assert text_columns("") == 0


@given(st.text(max_size=40), st.text(max_size=40))
def test_columns_add_up_over_concatenation(a: str, b: str) -> None:
    assert text_columns(a + b) == text_columns(a) + text_columns(b)
    assert all(char_columns(c) in (0, 1, 2) for c in a)
