"""msgspec's one-line errors reworded into the project's contract: a dotted path and a reason.

The reason is built from the schema's type information at the failing path, so it can give the
range, the choices or the nearest known key; a constrained type's `Meta(extra={"reason": …})`
is the reason given when that constraint fails (for rules a range cannot say, e.g. a pattern).
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from msgspec import inspect as mi

from validation import Problem, join

_MESSAGE = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_WRONG_TYPE = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")
_LENGTH = re.compile(r"^Expected `(?P<what>str|array|object)` of length")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]+)`$")
_CONTAINERS = (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)


@functools.lru_cache(maxsize=512)
def type_info(tp: Any) -> mi.Type:
    """msgspec's description of a type (cached: schemas are few and reused)."""
    return mi.type_info(tp)


def _words(toml: bool) -> dict[str, str]:
    obj = "a table" if toml else "an object"
    return {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false",
            "array": "an array", "object": obj, "null": "null", "bytes": "bytes",
            "datetime": "a date-time", "date": "a date", "time": "a time"}


def _got(word: str, toml: bool) -> str:
    if word == "bool":
        return "a boolean"
    return _words(toml).get(word, word)


def _plain(info: mi.Type) -> mi.Type:
    """`info` without a `| None` (never the case that failed a constraint) or its metadata."""
    if isinstance(info, mi.UnionType):
        rest = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(rest) == 1:
            info = rest[0]
    return info.type if isinstance(info, mi.Metadata) else info


def _want(info: mi.Type | None, fallback: str, toml: bool) -> str:
    words = _words(toml)
    if info is None:
        return " or ".join(words.get(w, w) for w in fallback.split(" | "))
    info = _plain(info)
    if isinstance(info, mi.UnionType):
        return " or ".join(dict.fromkeys(_want(t, fallback, toml) for t in info.types))
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(str(v) for v in info.values)
    if isinstance(info, _CONTAINERS) and _is_table(_plain(info.item_type)):
        return "an array of tables" if toml else "an array of objects"
    kind = {mi.IntType: "int", mi.FloatType: "float", mi.StrType: "str", mi.BoolType: "bool",
            mi.StructType: "object", mi.DictType: "object", mi.NoneType: "null"}
    for cls, word in kind.items():
        if isinstance(info, cls):
            return words[word]
    if isinstance(info, (*_CONTAINERS, mi.TupleType)):
        return words["array"]
    return fallback


def _is_table(info: mi.Type) -> bool:
    return isinstance(info, mi.StructType) or (isinstance(info, mi.UnionType) and all(
        isinstance(t, mi.StructType) for t in info.types))


def _num(v: float) -> str:
    return str(v)


def _range(info: mi.Type | None) -> str | None:
    info = _plain(info) if info is not None else None
    if not isinstance(info, (mi.IntType, mi.FloatType)):
        return None
    lo = info.ge if info.ge is not None else info.gt
    hi = info.le if info.le is not None else info.lt
    what = "a number " if isinstance(info, mi.FloatType) else ""
    if lo is not None and hi is not None:
        return f"must be {what}{_num(lo)}-{_num(hi)}"
    if lo is not None:
        return f"must be {what}{'above' if info.ge is None else 'at least'} {_num(lo)}"
    if hi is not None:
        return f"must be {what}{'below' if info.le is None else 'at most'} {_num(hi)}"
    return None


def _length(info: mi.Type | None, what: str) -> str:
    info = _plain(info) if info is not None else None
    lo = getattr(info, "min_length", None)
    hi = getattr(info, "max_length", None)
    unit = "characters" if what == "str" else "items" if what == "array" else "entries"
    if lo is not None and hi is not None:
        return f"must have {lo}-{hi} {unit}" if lo > 1 or what != "str" \
            else f"must be 1-{hi} characters"
    if lo == 1:
        return "must not be empty"
    if lo is not None:
        return f"must have at least {lo} {unit}"
    return f"must have at most {hi} {unit}"


def suggestion(key: str, known: Iterable[str]) -> str:
    """` did you mean `x`?` for the known name nearest to `key`, or ""."""
    import difflib  # only when a key is wrong: not held by an idle daemon

    near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean `{near[0]}`?" if near else ""


def unknown_key(key: str, known: Iterable[str], toml: bool) -> str:
    """The reason for a key the schema does not have."""
    return f"unknown {'key' if toml else 'field'}{suggestion(key, known)}"


def _segments(path: str) -> list[str | int]:
    out: list[str | int] = []
    for m in _SEGMENT.finditer(path):
        name, index = m.group(1), m.group(2)
        out.append(name if name is not None else int(index) if index != "..." else "...")
    return out


def _struct_fields(info: mi.Type, raw: object) -> dict[str, mi.Type] | None:
    """Field name -> type of the struct(s) `info` can be; for a tagged union, the variant `raw`
    names (every variant's fields when `raw` does not say)."""
    info = _plain(info)
    structs: list[mi.StructType] = []
    if isinstance(info, mi.StructType):
        structs = [info]
    elif isinstance(info, mi.UnionType):
        structs = [t for t in info.types if isinstance(t, mi.StructType)]
        tag_field = structs[0].tag_field if structs else None
        if isinstance(raw, Mapping) and tag_field is not None:
            chosen = [s for s in structs if s.tag == raw.get(tag_field)]
            structs = chosen or structs
    if not structs:
        return None
    out: dict[str, mi.Type] = {}
    for s in structs:
        out.update({f.encode_name: f.type for f in s.fields})
    return out


def _tags(info: mi.Type | None) -> list[str] | None:
    info = _plain(info) if info is not None else None
    if isinstance(info, mi.UnionType):
        tags = [str(t.tag) for t in info.types if isinstance(t, mi.StructType) and t.tag]
        return tags or None
    return None


def _step(info: mi.Type, raw: object, seg: str | int) -> tuple[mi.Type | None, object]:
    info = _plain(info)
    if isinstance(seg, str) and seg != "...":
        fields = _struct_fields(info, raw)
        nxt = raw.get(seg) if isinstance(raw, Mapping) else None
        if fields is not None:
            return fields.get(seg), nxt
        if isinstance(info, mi.DictType):
            return info.value_type, nxt
        return None, None
    if isinstance(info, mi.DictType):
        return info.value_type, None
    item = raw[seg] if isinstance(raw, list) and isinstance(seg, int) and seg < len(raw) \
        else None
    if isinstance(info, _CONTAINERS):
        return info.item_type, item
    if isinstance(info, mi.TupleType) and isinstance(seg, int) and seg < len(info.item_types):
        return info.item_types[seg], item
    return None, None


def _walk(info: mi.Type | None, raw: object, segs: list[str | int]
          ) -> tuple[mi.Type | None, mi.Type | None, object]:
    """(type at the path, type of its parent, raw value at the path) — None when unknown."""
    parent: mi.Type | None = None
    for seg in segs:
        if info is None:
            return None, None, None
        parent = info
        info, raw = _step(info, raw, seg)
    return info, parent, raw


def translate(message: str, tp: Any, raw: object = None, prefix: str = "", whole: str = "",
              toml: bool = False) -> Problem:
    """The Problem for msgspec's error `message` raised converting `raw` to `tp`.

    `prefix` is put before every path; `whole` names the input itself when the path is empty.
    """
    m = _MESSAGE.match(message)
    assert m is not None
    msg, where = m.group("msg"), m.group("path") or ""
    segs = _segments(where)
    info, parent, here = _walk(type_info(tp), raw, segs)
    path = prefix
    for seg in segs:
        path = join(path, "..." if seg == "..." else seg)
    choices = _literal_at(tp, raw, segs) if info is not None and isinstance(
        _plain(info), mi.LiteralType) else ()
    reason = _reason(msg, info, parent, here, choices, segs, toml)
    if isinstance(reason, Problem):
        path, reason = join(path, reason.path), reason.reason
    return Problem(path or whole, reason)


def _reason(msg: str, info: mi.Type | None, parent: mi.Type | None, here: object,
            choices: tuple[object, ...], segs: list[str | int], toml: bool) -> str | Problem:
    if (w := _WRONG_TYPE.match(msg)) is not None:
        want = "one of " + ", ".join(map(str, choices)) if choices \
            else _want(info, w.group("want"), toml)
        return f"must be {want}, got {_got(w.group('got'), toml)}"
    if (u := _UNKNOWN.match(msg)) is not None:
        fields = _struct_fields(info, here) if info is not None else None
        return Problem(u.group("key"), unknown_key(u.group("key"), fields or (), toml))
    if (k := _MISSING.match(msg)) is not None:
        return Problem(k.group("key"), "is required")
    described = _described(info)
    if msg.startswith("Invalid value") and segs:
        tags = _tags(parent)
        if tags:
            return "must be one of " + ", ".join(tags)
    if msg.startswith("Invalid enum value") and info is not None:
        return described or "must be one of " + ", ".join(map(str, choices or ()))
    if described is not None:
        return described
    if (n := _LENGTH.match(msg)) is not None:
        return _length(info, n.group("what"))
    if msg.startswith("Expected `str` matching regex"):
        return f"must match {msg.split(' regex ', 1)[1]}"
    if msg.startswith(("Expected `int`", "Expected `float`", "Integer value out of range",
                       "Number out of range")):
        return _range(info) or "is out of range"
    return msg[:1].lower() + msg[1:]


def _described(info: mi.Type | None) -> str | None:
    """The `Meta(extra={"reason": …})` of a constrained type, used as its reason."""
    if isinstance(info, mi.UnionType):
        rest = [t for t in info.types if not isinstance(t, mi.NoneType)]
        info = rest[0] if len(rest) == 1 else None
    if isinstance(info, mi.Metadata) and isinstance(info.extra, dict):
        reason = info.extra.get("reason")
        return reason if isinstance(reason, str) else None
    return None


def _literal_at(tp: Any, raw: object, segs: list[str | int]) -> tuple[object, ...]:
    """The choices of the `Literal[…]` at the path, in the order the schema declares them."""
    for seg in segs:
        tp = _strip(tp)
        args = typing.get_args(tp)
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            structs = [a for a in args if isinstance(a, type) and issubclass(a, msgspec.Struct)]
            tag_field = structs[0].__struct_config__.tag_field if structs else None
            tag = raw.get(tag_field) if isinstance(raw, Mapping) and tag_field else None
            tp = next((s for s in structs if s.__struct_config__.tag == tag),
                      next((s for s in structs if any(f.encode_name == seg
                           for f in msgspec.structs.fields(s))), None))
        if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
            tp = next((f.type for f in msgspec.structs.fields(tp) if f.encode_name == seg), None)
        elif typing.get_origin(tp) is dict:
            tp = args[1]
        elif typing.get_origin(tp) in (list, tuple, set, frozenset) and args:
            tp = args[0]
        else:
            return ()
        raw = raw.get(seg) if isinstance(raw, Mapping) and isinstance(seg, str) else \
            raw[seg] if isinstance(raw, list) and isinstance(seg, int) and seg < len(raw) else None
    tp = _strip(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = next((a for a in typing.get_args(tp) if a is not type(None)), tp)
    return typing.get_args(tp) if typing.get_origin(tp) is typing.Literal else ()


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def got(value: object, toml: bool = False) -> str:
    """What `value` (parsed JSON or TOML) is, in the words of a wrong-type reason."""
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "bool"), (int, "int"), (float, "float"), (str, "str"), ((list, tuple), "array"),
        (Mapping, "object"), (type(None), "null"))
    word = next((w for t, w in kinds if isinstance(value, t)), type(value).__name__)
    return _got(word, toml)
