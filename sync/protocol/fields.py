"""Typed readers for protocol payloads: each failure is a ProtocolError naming the dotted field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from sync.protocol import ProtocolError

VERSION = 1
MAX_INT = 2**53 - 1


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def dumps(obj: Mapping[str, object]) -> bytes:
    """Compact, sorted-key UTF-8 JSON: the wire form of every payload."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def load_object(data: bytes | str, max_bytes: int = 8 * 1024 * 1024) -> Mapping[str, object]:
    """Parse a payload: a JSON object whose `v` is this protocol version."""
    if len(data) > max_bytes:
        raise ProtocolError("payload", f"larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        obj = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError("payload", f"not valid UTF-8 JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("payload", "must be a JSON object")
    v = obj.get("v")
    if v != VERSION:
        raise ProtocolError("v", f"must be {VERSION} (got {v!r})")
    return obj


def path(prefix: str, key: str) -> str:
    """The dotted path of `key` inside `prefix`."""
    return f"{prefix}.{key}" if prefix else key


def obj(raw: Mapping[str, object], key: str, prefix: str = "") -> Mapping[str, object]:
    """A required JSON object."""
    v = raw.get(key)
    if not isinstance(v, dict):
        raise ProtocolError(path(prefix, key), "must be an object")
    return v


def as_obj(v: object, where: str) -> Mapping[str, object]:
    """`v` itself as a JSON object."""
    if not isinstance(v, dict):
        raise ProtocolError(where, "must be an object")
    return v


def lst(raw: Mapping[str, object], key: str, prefix: str = "", max_items: int = 10_000,
        min_items: int = 0) -> Sequence[object]:
    """A required JSON array of at most `max_items` items."""
    v = raw.get(key)
    if not isinstance(v, list):
        raise ProtocolError(path(prefix, key), "must be an array")
    if not min_items <= len(v) <= max_items:
        raise ProtocolError(path(prefix, key), f"must have {min_items}-{max_items} items")
    return v


def string(raw: Mapping[str, object], key: str, prefix: str = "", *, max_len: int = 256,
           pattern: re.Pattern[str] | None = None, choices: Sequence[str] | None = None,
           empty: bool = False) -> str:
    """A required string, optionally matching `pattern` or one of `choices`."""
    v = raw.get(key)
    where = path(prefix, key)
    if not isinstance(v, str):
        raise ProtocolError(where, "must be a string")
    if not v and not empty:
        raise ProtocolError(where, "must not be empty")
    if len(v) > max_len:
        raise ProtocolError(where, f"longer than {max_len} characters")
    if pattern is not None and not pattern.fullmatch(v):
        raise ProtocolError(where, f"must match {pattern.pattern}")
    if choices is not None and v not in choices:
        raise ProtocolError(where, "must be one of " + ", ".join(choices))
    return v


def opt_string(raw: Mapping[str, object], key: str, prefix: str = "", *, max_len: int = 256,
               choices: Sequence[str] | None = None) -> str | None:
    """An optional string (absent or null gives None)."""
    if raw.get(key) is None:
        return None
    return string(raw, key, prefix, max_len=max_len, choices=choices, empty=True)


def integer(raw: Mapping[str, object], key: str, prefix: str = "", *, lo: int = 0,
            hi: int = MAX_INT) -> int:
    """A required integer in [lo, hi] (booleans and floats are refused)."""
    v = raw.get(key)
    where = path(prefix, key)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ProtocolError(where, "must be an integer")
    if not lo <= v <= hi:
        raise ProtocolError(where, f"must be {lo}-{hi}")
    return v


def opt_integer(raw: Mapping[str, object], key: str, prefix: str = "", *, lo: int = 0,
                hi: int = MAX_INT) -> int | None:
    """An optional integer (absent or null gives None)."""
    if raw.get(key) is None:
        return None
    return integer(raw, key, prefix, lo=lo, hi=hi)


def boolean(raw: Mapping[str, object], key: str, prefix: str = "") -> bool:
    """A required boolean."""
    v = raw.get(key)
    if not isinstance(v, bool):
        raise ProtocolError(path(prefix, key), "must be true or false")
    return v


def int_map(raw: Mapping[str, object], key: str, prefix: str = "",
            max_items: int = 256) -> dict[str, int]:
    """A required object of string keys to non-negative integers."""
    m = obj(raw, key, prefix)
    if len(m) > max_items:
        raise ProtocolError(path(prefix, key), f"more than {max_items} entries")
    return {k: integer(m, k, path(prefix, key)) for k in m}
