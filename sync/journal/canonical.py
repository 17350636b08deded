"""Canonical JSON: the RFC 8785 subset (ASCII keys, safe integers, no floats) as UTF-8 bytes."""

from __future__ import annotations

import json
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any, NoReturn

from sync.journal import RecordError

MAX_SAFE = 2**53 - 1
"""Largest integer every JSON implementation represents exactly (RFC 8785 §3.2.2.3)."""

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, check_circular=False
)


def _no_default(value: Any) -> NoReturn:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


# The C encoder made once (JSONEncoder.encode builds it anew on every call); same output.
_C_ENCODE = (c_make_encoder(None, _no_default, encode_basestring, None, ":", ",", True, False,
                            False) if c_make_encoder is not None else None)


def _encode(value: Any) -> str:
    if _C_ENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


def _reject_float(text: str) -> NoReturn:
    raise RecordError("$", f"non-integer number {text!r} (floats are not allowed)")


def _reject_constant(text: str) -> NoReturn:
    raise RecordError("$", f"{text} is not JSON")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RecordError(key, "duplicate key")
            seen.add(key)
    return out


_STRICT = json.JSONDecoder(
    object_pairs_hook=_pairs, parse_float=_reject_float, parse_constant=_reject_constant
)
_FAST = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_constant)


def check_value(value: Any, path: str = "$") -> None:
    """Raise RecordError unless `value` is in the canonical domain (ASCII keys, safe ints)."""
    kind = type(value)
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(path, "string is not valid Unicode (lone surrogate)") from None
    elif kind is int:
        if not -MAX_SAFE <= value <= MAX_SAFE:
            raise RecordError(path, "integer outside ±(2**53-1)")
    elif kind is bool or value is None:
        return
    elif kind is dict:
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise RecordError(f"{path}.{key}", "keys must be ASCII strings")
            check_value(item, f"{path}.{key}")
    elif kind is list or kind is tuple:
        for i, item in enumerate(value):
            check_value(item, f"{path}[{i}]")
    elif kind is float:
        raise RecordError(path, "floats are not allowed (money is integer fen)")
    else:
        raise RecordError(path, f"{kind.__name__} is not a JSON value")


def canonical(value: Any) -> bytes:
    """Canonical UTF-8 bytes of `value`; byte-identical to RFC 8785 on this domain."""
    check_value(value)
    return _encode(value).encode("utf-8")


def encode_unchecked(value: Any) -> str:
    """Canonical text of a value already known to be in the domain (validated records)."""
    return _encode(value)


def parse(raw: bytes | str, *, domain: bool = True) -> Any:
    """Parse JSON strictly: UTF-8, no duplicate keys, no floats or NaN.

    With `domain` (the default) integers must also be safe and keys ASCII (check_value).
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes | bytearray) else raw
        value = _STRICT.decode(text)
    except UnicodeDecodeError:
        raise RecordError("$", "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise RecordError("$", f"not JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise RecordError("$", "nested too deeply") from None
    if domain:
        check_value(value)
    return value


def parse_canonical(raw: bytes) -> Any:
    """Parse `raw` and require that it is exactly the canonical encoding of what it holds."""
    value = parse(raw)
    if _encode(value).encode("utf-8") != raw:
        raise RecordError("$", "bytes are not in canonical form")
    return value


def canonical_at(text: str, start: int) -> tuple[Any, int]:
    """The JSON value starting at `text[start]` and where it ends; ValueError (or RecordError)
    unless it parses and its canonical encoding is exactly the text it spans.

    Ranges and key names are not checked (the caller's schema does that).
    """
    try:
        value, end = _FAST.scan_once(text, start)  # type: ignore[attr-defined]
    except StopIteration:
        raise ValueError("not JSON") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    encoded = _encode(value)
    if len(encoded) != end - start or not text.startswith(encoded, start):
        raise ValueError("not in canonical form")
    return value, end


def parse_canonical_fast(raw: bytes) -> Any:
    """Like parse_canonical for records whose fields are range-checked afterwards by the schema.

    Duplicate keys cannot survive the round trip, so the cheaper decoder is enough here.
    """
    try:
        text = raw.decode("utf-8")
        value, end = _FAST.scan_once(text, 0)  # type: ignore[attr-defined]
    except UnicodeDecodeError:
        raise RecordError("$", "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise RecordError("$", f"not JSON: {exc.msg} at offset {exc.pos}") from None
    except StopIteration:
        raise RecordError("$", "not JSON") from None
    except RecursionError:
        raise RecordError("$", "nested too deeply") from None
    if end != len(text) or _encode(value) != text:
        raise RecordError("$", "bytes are not in canonical form")
    return value
