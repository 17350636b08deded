"""Pairing codes: byte vectors, the alphabet, what a person may type, and the stored hash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.pairing_code import ALPHABET, code_hash, new_code, normalize, shown
from sync.protocol import ProtocolError


def test_vectors() -> None:
    assert new_code(bytes(5)) == "22222222"
    assert new_code(b"\xff" * 5) == "ZZZZZZZZ"
    # 0x0843...: 5-bit groups 00001 00001 00001 …
    assert new_code(bytes.fromhex("0842108421")) == "33333333"
    assert shown("7KQ2M9XD") == "7KQ2-M9XD"
    assert len(ALPHABET) == 32 and not set("01IO") & set(ALPHABET)


@given(st.binary(min_size=5, max_size=5))
def test_any_code_is_typed_back_in_any_case_with_spaces_or_dashes(random: bytes) -> None:
    code = new_code(random)
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert normalize(shown(code).lower()) == code
    assert normalize(" " + code[:3] + " - " + code[3:] + "\t") == code


@pytest.mark.parametrize("typed", ["", "7KQ2-M9X", "7KQ2-M9XDD", "7KQ2-M9X0", "7KQ2-M9XI",
                                   "配对码12345", "7KQ2_M9XD", None, 12345678, "7" * 40])
def test_anything_else_is_refused_naming_the_field(typed: object) -> None:
    with pytest.raises(ProtocolError) as e:
        normalize(typed, "code")
    assert e.value.field == "code"


def test_the_hash_is_what_hq_keeps() -> None:
    h = code_hash("7KQ2M9XD")
    assert len(h) == 64 and "7KQ2" not in h
    assert h != code_hash("7KQ2M9XE")
    with pytest.raises(ValueError):
        new_code(b"1234")
