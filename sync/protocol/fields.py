"""Payload decoding through the validation layer: each failure is a ProtocolError naming the
dotted field (`events[2].state`), in the layer's words."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import TypeVar

import msgspec

from sync.protocol import ProtocolError
from sync.protocol.schemas import MAX_INT, Payload, Version
from validation import ValidationError
from validation.decode import convert, decode_json

VERSION = 1
__all__ = ["MAX_INT", "VERSION", "decode", "dumps", "part"]
P = TypeVar("P", bound=Payload)
T = TypeVar("T")


def dumps(obj: Mapping[str, object]) -> bytes:
    """Compact, sorted-key UTF-8 JSON: the wire form of every payload."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode()


def _check_version(v: object) -> None:
    if v != VERSION or isinstance(v, bool):
        raise ProtocolError("v", f"must be {VERSION} (got {v!r})")


def decode(data: bytes | str, tp: type[P], max_bytes: int = 8 * 1024 * 1024) -> P:
    """Validate a payload: a JSON object of shape `tp` whose `v` is this protocol version."""
    try:
        out = decode_json(data, tp, whole="payload", max_bytes=max_bytes)
    except ValidationError as e:
        if e.path != "payload":
            with contextlib.suppress(msgspec.DecodeError, RecursionError):
                _check_version(msgspec.json.decode(data, type=Version).v)
        raise ProtocolError(e.path, e.reason) from None
    _check_version(out.v)
    return out


def part(raw: object, tp: type[T], where: str) -> T:
    """A payload part already parsed (`raw`), found at `where`, as a `tp`."""
    try:
        return convert(raw, tp, prefix=where, whole=where)
    except ValidationError as e:
        raise ProtocolError(e.path, e.reason) from None
