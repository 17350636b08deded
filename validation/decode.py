"""Decoding into schemas: JSON bytes or Python objects (first problem) and TOML tables (all).

JSON payloads and request bodies stop at their first problem: msgspec validates while it
decodes and a sender fixes one field at a time. Configuration files report every problem at
once (`collect`): each table, list item and key is checked on its own against the schema.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from validation import Problem, ValidationError, join
from validation.reasons import translate, unknown_key

T = TypeVar("T")
MAX_BYTES = 8 * 1024 * 1024


@functools.lru_cache(maxsize=256)
def _decoder(tp: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(tp)


def decode_json(data: bytes | str, tp: type[T], *, prefix: str = "", whole: str = "",
                max_bytes: int = MAX_BYTES) -> T:
    """`data` (UTF-8 JSON) as a `tp`; ValidationError names the first problem.

    `prefix` goes before every path and `whole` names the input when the problem is the whole
    of it (malformed, too large, too deeply nested, not an object).
    """
    if len(data) > max_bytes:
        raise ValidationError([Problem(prefix or whole, f"larger than {max_bytes} bytes")])
    try:
        return typing.cast(T, _decoder(typing.cast(Any, tp)).decode(data))
    except msgspec.ValidationError as e:
        problem = translate(str(e), tp, None, prefix, whole)
        if "..." in problem.path:
            problem = _name_members(data, tp, problem, prefix, "out of range" in str(e))
        raise ValidationError([problem]) from None
    except msgspec.DecodeError as e:
        raise ValidationError([Problem(prefix or whole, f"not valid UTF-8 JSON: {e}")]) from None
    except RecursionError:
        raise ValidationError([Problem(prefix or whole, "nested too deeply")]) from None


def convert(obj: object, tp: type[T], *, prefix: str = "", whole: str = "",
            toml: bool = False) -> T:
    """`obj` (parsed JSON or TOML) as a `tp`; ValidationError names the first problem."""
    try:
        return msgspec.convert(obj, tp)
    except msgspec.ValidationError as e:
        raise ValidationError([translate(str(e), tp, obj, prefix, whole, toml)]) from None
    except RecursionError:
        raise ValidationError([Problem(prefix or whole, "nested too deeply")]) from None
    except ValueError:
        # An integer too large to print (> 4300 digits) fails inside msgspec's own message.
        raise ValidationError([Problem(prefix or whole, "a number is out of range")]) from None


def collect(obj: object, tp: type[T], problems: list[Problem], prefix: str = "",
            toml: bool = True) -> T | None:
    """`obj` as a `tp`, or None after appending every problem found to `problems`.

    Each table, list item and key is checked on its own, so one bad key does not hide another.
    """
    before = len(problems)
    _check(obj, tp, prefix, problems, toml)
    if len(problems) > before:
        return None
    try:
        return convert(obj, tp, prefix=prefix, toml=toml)
    except ValidationError as e:
        problems.extend(e.problems)
        return None


def _strip(tp: Any) -> Any:
    """`tp` without `Annotated[…]` constraints."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _leaf(obj: object, tp: Any, path: str, problems: list[Problem], toml: bool) -> bool:
    try:
        convert(obj, tp, prefix=path, toml=toml)
    except ValidationError as e:
        problems.extend(e.problems)
        return False
    return True


def _check(obj: object, tp: Any, path: str, problems: list[Problem], toml: bool) -> None:
    base = _strip(tp)
    origin = typing.get_origin(base)
    args = typing.get_args(base)
    if _is_struct(base):
        _check_struct(obj, base, path, problems, toml)
    elif origin in (typing.Union, types.UnionType) and any(_is_struct(a) for a in args):
        if obj is None and type(None) in args:
            return
        variants = [a for a in args if _is_struct(a)]
        tag_field = variants[0].__struct_config__.tag_field
        if not isinstance(obj, Mapping) or tag_field is None:
            _leaf(obj, tp, path, problems, toml)
            return
        tags = {v.__struct_config__.tag: v for v in variants}
        tag = obj.get(tag_field)
        if tag is None:
            problems.append(Problem(join(path, tag_field), "is required"))
        elif tag not in tags:
            problems.append(Problem(join(path, tag_field),
                                    "must be one of " + ", ".join(map(str, tags))))
        else:
            _check_struct(obj, tags[tag], path, problems, toml)
    elif origin in (list, tuple, set, frozenset) and not (origin is tuple and args[-1:] != (...,)):
        if _leaf(obj, _shallow(tp), path, problems, toml):
            assert isinstance(obj, list | tuple)
            for i, item in enumerate(obj):
                _check(item, args[0], join(path, i), problems, toml)
    elif origin is dict:
        if _leaf(obj, _shallow(tp), path, problems, toml):
            assert isinstance(obj, Mapping)
            for key, value in obj.items():
                _check(value, args[1], join(path, str(key)), problems, toml)
    else:
        _leaf(obj, tp, path, problems, toml)


def _shallow(tp: Any) -> Any:
    """`tp` with its items left unchecked (they are checked one by one, with their paths)."""
    base = _strip(tp)
    origin = typing.get_origin(base)
    shallow = dict[Any, Any] if origin is dict else list[Any]
    metas = typing.get_args(tp)[1:] if typing.get_origin(tp) is typing.Annotated else ()
    return typing.Annotated[shallow, *metas] if metas else shallow


def _check_struct(obj: object, cls: type[msgspec.Struct], path: str, problems: list[Problem],
                  toml: bool) -> None:
    if not isinstance(obj, Mapping):
        _leaf(obj, cls, path, problems, toml)
        return
    fields = {f.encode_name: f for f in msgspec.structs.fields(cls)}
    tag_field = cls.__struct_config__.tag_field
    forbid = cls.__struct_config__.forbid_unknown_fields
    for key in obj if forbid else ():
        if key not in fields and key != tag_field:
            problems.append(Problem(join(path, str(key)), unknown_key(str(key), fields, toml)))
    for name, f in fields.items():
        if name in obj:
            _check(obj[name], f.type, join(path, name), problems, toml)
        elif f.required:
            problems.append(Problem(join(path, name), "is required"))


def collect_items(obj: object, tp: Any, problems: list[Problem], path: str,
                  toml: bool = True) -> list[tuple[object, Any]]:
    """Each item of the array of tables `obj` (None: absent) with its value, None when bad."""
    if obj is None:
        return []
    if not isinstance(obj, list):
        p = convert_problem(obj, list[tp], path, toml)
        reason = p.reason.replace("of tables", f"of tables ([[{path}]])", 1) if toml \
            else p.reason
        problems.append(Problem(p.path, reason))
        return []
    return [(item, collect(item, tp, problems, join(path, i), toml))
            for i, item in enumerate(obj)]


def unknown_keys(obj: Mapping[str, object], known: set[str], path: str,
                 toml: bool = True) -> list[Problem]:
    """A problem for every key of `obj` not in `known`, each with the nearest known key."""
    return [Problem(join(path, k), unknown_key(k, known, toml)) for k in obj if k not in known]


def convert_problem(obj: object, tp: Any, path: str, toml: bool = True) -> Problem:
    """The first problem converting `obj` to `tp`, which must fail (a known wrong type)."""
    try:
        convert(obj, tp, prefix=path, toml=toml)
    except ValidationError as e:
        return e.problems[0]
    raise AssertionError("expected a problem")


def _name_members(data: bytes | str, tp: Any, problem: Problem, prefix: str,
                  out_of_range: bool) -> Problem:
    """`problem` with the member names msgspec leaves out (`queues[...]`) filled in, found by
    checking the document again member by member (only ever on this error path)."""
    found_path = _locate_out_of_range(data, prefix) if out_of_range else None
    if found_path is not None:
        return Problem(found_path, problem.reason)
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError):
        obj = _UNREADABLE
    member = r"[^\[]+?"
    escaped = re.escape(problem.path).replace(r"\.\.\.\.", r"\." + member)
    pattern = re.compile((member + escaped[6:] if escaped.startswith(r"\.\.\.") else escaped)
                         + "$")
    found: list[Problem] = []
    if obj is not _UNREADABLE:
        with contextlib.suppress(RecursionError):
            _check(obj, tp, prefix, found, False)
    named = next((p for p in found if pattern.match(p.path)), None)
    if named is not None:
        return named
    # Too deep to read again: name the object that holds the bad member.
    holder = problem.path.split("...", 1)[0].rstrip(".")
    return Problem(holder or problem.path, f"a member {problem.reason}")


_UNREADABLE = object()


class _OutOfRange:
    """Stands for a JSON number no schema can hold, to find its path."""


def _locate_out_of_range(data: bytes | str, prefix: str) -> str | None:
    """The dotted path of the first number in `data` out of msgspec's range (64-bit integers,
    finite floats); msgspec names object members `[...]`, so look again on this error path."""
    def big_int(s: str) -> object:
        return _OutOfRange() if len(s.lstrip("-")) > 19 and not -2**63 <= int(s) < 2**64 \
            else 0
    try:
        obj = json.loads(data, parse_int=lambda s: _OutOfRange() if len(s) > 4000
                         else big_int(s),
                         parse_float=lambda s: _OutOfRange() if math.isinf(float(s)) else 0.0)
    except (ValueError, RecursionError):
        return None
    stack: list[tuple[str, object]] = [(prefix, obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _OutOfRange):
            return path
        if isinstance(value, dict):
            stack.extend((join(path, k), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((join(path, i), v) for i, v in reversed(list(enumerate(value))))
    return None
