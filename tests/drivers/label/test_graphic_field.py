"""ZPL ^GF graphic data: compression round trip, the manual's scheme, and bad data."""

from __future__ import annotations

import base64
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.label.graphic_field import (
    GraphicFieldError,
    compress_rows,
    decode_field,
    hex_rows,
)


def test_compression_scheme_vectors() -> None:
    # Counts G..Y are 1..19, g..z 20..400; ',' fills a row with 0, '!' with F, ':' repeats it.
    assert hex_rows("GF", 1, 1) == b"\xf0"
    assert hex_rows("HF", 1, 1) == b"\xff"
    assert hex_rows("HF,", 2, 2) == b"\xff\x00"
    assert hex_rows("0!", 2, 2) == b"\x0f\xff"
    assert hex_rows("A,:", 2, 4) == b"\xa0\x00\xa0\x00"
    assert hex_rows("gF", 10, 10) == b"\xff" * 10
    assert hex_rows("zgHF", 211, 211) == b"\xff" * 211
    assert compress_rows(b"\x00\x00\xff\xff", 2) == ",!"
    assert compress_rows(b"\xf0\x00\xf0\x00", 2) == "F,:"
    assert compress_rows(b"\xff" * 30 + b"\x0f", 31) == "iF0!"
    assert compress_rows(b"\x00" * 500, 500) == ","
    long_run = b"\xff" * 300 + b"\x0f" + b"\xab" * 250
    assert hex_rows(compress_rows(long_run, len(long_run)), len(long_run), len(long_run)) == \
        long_run


def test_short_data_is_padded_white_and_whitespace_ignored() -> None:
    assert hex_rows("FF\r\n0F", 2, 4) == b"\xff\x0f\x00\x00"


@pytest.mark.parametrize("text", ["F#", "^", "F~"])
def test_characters_outside_the_scheme_are_refused(text: str) -> None:
    with pytest.raises(GraphicFieldError):
        hex_rows(text, 1, 4)


def test_z64_and_b64() -> None:
    raw = bytes(range(16))
    z64 = ":Z64:" + base64.b64encode(zlib.compress(raw)).decode() + ":1a2b"
    assert decode_field(z64, 4, 16) == raw
    assert decode_field(":B64:" + base64.b64encode(raw).decode() + ":1a2b", 4, 16) == raw
    with pytest.raises(GraphicFieldError):
        decode_field(":Z64:bm90IHpsaWI=:0000", 4, 16)


@given(st.integers(1, 40), st.data())
def test_round_trip(width: int, data: st.DataObject) -> None:
    rows = data.draw(st.lists(st.sampled_from([b"\x00" * width, b"\xff" * width,
                                               bytes(range(width))]) |
                              st.binary(min_size=width, max_size=width), max_size=12))
    raw = b"".join(rows)
    assert hex_rows(compress_rows(raw, width), width, len(raw)) == raw


@given(st.text(max_size=200), st.integers(1, 20), st.integers(0, 200))
def test_random_text_raises_only_the_documented_error(text: str, width: int, total: int) -> None:
    try:
        out = decode_field(text, width, total)
    except GraphicFieldError:
        return
    assert len(out) == total
