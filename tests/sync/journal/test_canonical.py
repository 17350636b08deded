"""Canonical JSON: byte-identical to RFC 8785 on its domain, strict parsing, named errors."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.canonical import (
    MAX_SAFE,
    canonical,
    parse,
    parse_canonical,
    parse_canonical_fast,
)

ascii_keys = st.text(st.characters(max_codepoint=127), max_size=8)
texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | texts
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(ascii_keys, inner, max_size=4), max_leaves=25)


@given(values)
def test_canonical_bytes_equal_rfc8785(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@given(values)
def test_parse_inverts_canonical(value: Any) -> None:
    raw = canonical(value)
    assert parse_canonical(raw) == value
    assert parse_canonical_fast(raw) == value


def test_chinese_is_kept_as_utf8_and_controls_are_escaped() -> None:
    value = {"name": "不锈钢合页 4寸", "b": "a\nb\x1f\u2028\x7f", "a": [1, -2, True, None]}
    raw = canonical(value)
    assert raw == rfc8785.dumps(value)
    assert "不锈钢合页".encode() in raw
    assert raw.startswith(b'{"a":[1,-2,true,null],"b":"a\\nb\\u001f')


@pytest.mark.parametrize(("value", "field"), [
    (1.5, "$"), ({"x": [0.0]}, "$.x[0]"), (2**53, "$"), ({"名": 1}, "$.名"),
    ({"x": "\ud800"}, "$.x"), ({"x": {1, 2}}, "$.x"),
])
def test_values_outside_the_domain_are_refused_by_path(value: Any, field: str) -> None:
    with pytest.raises(RecordError) as e:
        canonical(value)
    assert e.value.field == field


@pytest.mark.parametrize("raw", [
    b'{"a":1,"a":2}', b'{"a":1.0}', b'{"a":1e3}', b'{"a":NaN}', b'{"a":Infinity}',
    b'\xff{}', b'{"a":', b'{"a":9007199254740992}', '{"名":1}'.encode(),
])
def test_parse_refuses_what_canonical_json_forbids(raw: bytes) -> None:
    with pytest.raises(RecordError):
        parse(raw)


@pytest.mark.parametrize("raw", [
    b'{"b":1,"a":2}', b'{"a": 1}', b' {"a":1}', b'{"a":"\\u4e2d"}', b'{"a":-0}', b'{"a":01}',
    b'{"a":"\\ud800"}', b'{"a":"\\/"}',
])
def test_non_canonical_bytes_are_refused(raw: bytes) -> None:
    with pytest.raises(RecordError):
        parse_canonical(raw)
    with pytest.raises(RecordError):
        parse_canonical_fast(raw)


@given(st.binary(max_size=64))
def test_random_bytes_raise_only_record_error(raw: bytes) -> None:
    for fn in (parse, parse_canonical, parse_canonical_fast):
        with contextlib.suppress(RecordError):
            fn(raw)
