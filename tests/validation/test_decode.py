"""The validation layer: byte vectors of the error contract, and only ValidationError on junk."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import Meta

from validation import Problem, Schema, ValidationError
from validation.decode import collect, collect_items, convert, decode_json, unknown_keys
from validation.network import is_loopback


class Api(Schema, frozen=True, kw_only=True):
    listen: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8470
    ratio: Annotated[float, Meta(ge=0.2, le=3600.0)] = 1.0
    name: Annotated[str, Meta(max_length=8)] = ""
    code: Annotated[str, Meta(pattern="^[a-z]+$", extra={"reason": "only a-z"})] = "a"
    kind: Literal["vfd", "price"] = "vfd"
    tags: Annotated[tuple[str, ...], Meta(min_length=1)] = ("a",)
    limits: dict[str, Annotated[int, Meta(ge=1, le=9)]] = msgspec.field(default_factory=dict)


class _Printer(Schema, frozen=True, kw_only=True):
    id: str


class Tcp(_Printer, frozen=True, kw_only=True, tag_field="transport", tag="tcp"):
    host: str
    port: Annotated[int, Meta(ge=1, le=65535)] = 9100


class File(_Printer, frozen=True, kw_only=True, tag_field="transport", tag="file"):
    path: str


class Doc(Schema, frozen=True, kw_only=True):
    api: Api = Api()
    printers: list[Tcp | File] = msgspec.field(default_factory=list)
    extra: Any = None


def first(data: bytes) -> Problem:
    with pytest.raises(ValidationError) as e:
        decode_json(data, Doc, whole="body")
    return e.value.problems[0]


@pytest.mark.parametrize(("data", "path", "reason"), [
    (b'{"api":{"port":"8470"}}', "api.port", "must be an integer, got a string"),
    (b'{"api":{"port":true}}', "api.port", "must be an integer, got a boolean"),
    (b'{"api":{"port":84.7}}', "api.port", "must be an integer, got a number"),
    (b'{"api":{"port":0}}', "api.port", "must be 1-65535"),
    (b'{"api":{"port":70000}}', "api.port", "must be 1-65535"),
    (b'{"api":{"prot":1}}', "api.prot", "unknown field; did you mean `port`?"),
    (b'{"colour":1}', "colour", "unknown field"),
    (b'{"api":{"ratio":0}}', "api.ratio", "must be a number 0.2-3600.0"),
    ('{"api":{"name":"前台收银台一号二号"}}'.encode(), "api.name",
     "must have at most 8 characters"),
    (b'{"api":{"code":"ABC"}}', "api.code", "only a-z"),
    (b'{"api":{"kind":"oled"}}', "api.kind", "must be one of vfd, price"),
    (b'{"api":{"kind":1}}', "api.kind", "must be one of vfd, price, got an integer"),
    (b'{"api":{"tags":[]}}', "api.tags", "must not be empty"),
    (b'{"api":{"listen":null}}', "api.listen", "must be a string, got null"),
    (b'{"api":[]}', "api", "must be an object, got an array"),
    (b'{"printers":[{"transport":"pigeon"}]}', "printers[0].transport",
     "must be one of tcp, file"),
    (b'{"printers":[{"id":"a","host":"h"}]}', "printers[0].transport", "is required"),
    (b'{"printers":[{"transport":"tcp","id":"a"}]}', "printers[0].host", "is required"),
    (b'{"printers":[{"transport":"tcp","id":"a","host":"h","prot":1}]}', "printers[0].prot",
     "unknown field; did you mean `port`?"),
    (b'[]', "body", "must be an object, got an array"),
    (b'{"api":{"port":' + b"9" * 5000 + b"}}", "api.port", "must be 1-65535"),
    (b'{"extra":' + b"9" * 5000 + b"}", "extra", "is out of range"),
    (b'{"extra":1e999}', "extra", "is out of range"),
])
def test_json_errors_name_the_path_and_say_what_was_wanted(data: bytes, path: str,
                                                           reason: str) -> None:
    assert first(data) == Problem(path, reason)


@pytest.mark.parametrize("data", [b"{", b"\xff", b'{"api": NaN}', b"", b'{"api":{}}x'])
def test_malformed_json_is_named_as_the_whole_body(data: bytes) -> None:
    p = first(data)
    assert p.path == "body" and p.reason.startswith("not valid UTF-8 JSON")


def test_deep_nesting_and_size_are_bounded() -> None:
    deep = b'{"extra":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert first(deep) == Problem("body", "nested too deeply")
    with pytest.raises(ValidationError) as e:
        decode_json(b'{"extra":"' + b"x" * 100 + b'"}', Doc, whole="body", max_bytes=64)
    assert e.value.problems == (Problem("body", "larger than 64 bytes"),)


def test_a_valid_document_decodes_into_frozen_structs() -> None:
    doc = decode_json('{"api":{"listen":"::1","name":"前台"},"printers":[{"transport":"file",'
                      '"id":"收银","path":"/tmp/p"}]}'.encode(), Doc)
    assert doc.api.listen == "::1" and doc.api.name == "前台" and doc.api.port == 8470
    assert doc.printers == [File(id="收银", path="/tmp/p")]
    with pytest.raises(AttributeError):
        doc.api.port = 1  # type: ignore[misc]


def test_prefix_names_where_the_input_sits() -> None:
    with pytest.raises(ValidationError) as e:
        convert({"port": "8470"}, Api, prefix="cmd.args")
    assert str(e.value) == "cmd.args.port: must be an integer, got a string"


def test_toml_words_and_every_problem_collected() -> None:
    raw = {"api": {"port": "8470", "prot": 1, "kind": "oled", "limits": {"a": 0, "b": "x"}},
           "printers": [{"transport": "tcp", "host": 1}, "x", {"transport": "file", "id": "f",
                                                             "path": "/p"}]}
    problems: list[Problem] = []
    assert collect(raw, Doc, problems) is None
    assert [str(p) for p in problems] == [
        "api.prot: unknown key; did you mean `port`?",
        "api.port: must be an integer, got a string",
        "api.kind: must be one of vfd, price",
        "api.limits.a: must be 1-9",
        "api.limits.b: must be an integer, got a string",
        "printers[0].id: is required",
        "printers[0].host: must be a string, got an integer",
        "printers[1]: must be a table, got a string",
    ]
    ok: list[Problem] = []
    assert collect({"api": {"port": 1}}, Doc, ok) == Doc(api=Api(port=1)) and ok == []


def test_arrays_of_tables_are_named_with_their_toml_spelling() -> None:
    problems: list[Problem] = []
    assert collect_items({"id": "x"}, Tcp | File, problems, "printers") == []
    assert [str(p) for p in problems] == [
        "printers: must be an array of tables ([[printers]]), got a table"]
    items = collect_items([{"transport": "file", "id": "a", "path": "/p"}, 3], Tcp | File,
                          problems, "printers")
    assert items[0][1] == File(id="a", path="/p") and items[1][1] is None
    assert str(problems[-1]) == "printers[1]: must be a table, got an integer"


def test_unknown_keys_suggest_only_near_names() -> None:
    assert [str(p) for p in unknown_keys({"prot": 1, "colour": 2, "port": 3}, {"port", "host"},
                                         "api")] == [
        "api.prot: unknown key; did you mean `port`?", "api.colour: unknown key"]


def test_loopback_hosts() -> None:
    assert all(map(is_loopback, ["localhost", "127.0.0.1", "127.8.9.1", "::1"]))
    assert not any(map(is_loopback, ["0.0.0.0", "192.168.1.20", "::", "example.cn", ""]))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(), lambda c: st.lists(c, max_size=4)
                    | st.dictionaries(st.sampled_from(["api", "port", "printers", "transport",
                                                       "id", "host", "kind", "x"]) | st.text(),
                                      c, max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_the_documented_error(data: bytes) -> None:
    try:
        decode_json(data, Doc, whole="body")
    except ValidationError as e:
        assert e.problems and all(isinstance(p.reason, str) and p.reason for p in e.problems)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_raises_only_the_documented_error(value: object) -> None:
    data = json.dumps(value).encode()
    try:
        decode_json(data, Doc, whole="body")
    except ValidationError as e:
        assert e.problems[0].reason
    try:
        convert(value, Doc, whole="body")
    except ValidationError as e:
        assert e.problems[0].reason
    problems: list[Problem] = []
    collect(value, Doc, problems)
    assert all(p.reason for p in problems)
