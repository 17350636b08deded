"""Bounded JSON: vectors for the bombs of issue 11 and properties against the standard parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.bounded_json import MAX_DEPTH, JsonLimitError, loads_bounded

LEAVES = st.none() | st.booleans() | st.integers(-(10**30), 10**30) \
    | st.floats(allow_nan=False, allow_infinity=False) | st.text()
VALUES = st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)


def refused(raw: str | bytes) -> JsonLimitError:
    with pytest.raises(JsonLimitError) as e:
        loads_bounded(raw)
    return e.value


@pytest.mark.parametrize(("raw", "field"), [
    ('{"pin": ' + "9" * 5000 + "}", "pin"),
    ('{"备注": [1, ' + "9" * 41 + "]}", "备注[1]"),
    ('{"a": {"b": -' + "1" * 60 + "}}", "a.b"),
    ("[" * 100_000 + "]" * 100_000, "[0]" * MAX_DEPTH),
    ('{"lines": [{}, {"x": ' + "[" * 40 + "]" * 40 + "}]}",
     "lines[1].x" + "[0]" * (MAX_DEPTH - 3)),
    ('{"k\\"ey": ' + "{" * 40, 'k"ey.'),
    ("NaN", "body"),
    ('{"pin": Infinity}', "body"),
    (b"\xff\xfe", "body"),
    ("", "body"),
])
def test_bombs_are_refused_naming_the_field(raw: str | bytes, field: str) -> None:
    e = refused(raw)
    assert e.field.startswith(field), (e.field, e.reason)


def test_a_value_exactly_at_the_bounds_is_read() -> None:
    deep = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert loads_bounded(deep) == json.loads(deep)
    assert loads_bounded('{"n": ' + "9" * 40 + ', "名": "不锈钢合页"}') == {
        "n": int("9" * 40), "名": "不锈钢合页"}
    assert loads_bounded('{"pin": 2.0}') == {"pin": 2.0}  # a float stays a float


@settings(max_examples=200, deadline=None)
@given(VALUES)
def test_any_value_within_bounds_reads_as_the_standard_parser_reads_it(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert loads_bounded(text.encode()) == json.loads(text)


@settings(max_examples=100, deadline=None)
@given(st.integers(MAX_DEPTH + 1, 400), st.text(max_size=6))
def test_too_deep_is_refused_at_the_path_where_it_got_too_deep(depth: int, key: str) -> None:
    text = "{" + json.dumps(key) + ": " + "[" * depth + "]" * depth + "}"
    assert refused(text).field == key + "[0]" * (MAX_DEPTH - 1)
