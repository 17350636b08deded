"""Typed reads of JSON objects for the document parsers; errors name the dotted field."""

from __future__ import annotations

from collections.abc import Mapping

from drivers import InvalidInput


def obj(v: object, path: str) -> Mapping[str, object]:
    """`v` as an object, or InvalidInput at `path`."""
    if not isinstance(v, Mapping):
        raise InvalidInput(path, "must be an object")
    return v


def only(o: Mapping[str, object], path: str, allowed: set[str]) -> None:
    """InvalidInput naming the first key of `o` not in `allowed`."""
    for k in o:
        if k not in allowed:
            raise InvalidInput(f"{path}.{k}", "unknown field")


def integer(o: Mapping[str, object], key: str, path: str, default: int, lo: int, hi: int) -> int:
    """`o[key]` (or `default`) as an integer within [lo, hi]."""
    v = o.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidInput(f"{path}.{key}", "must be an integer")
    if not lo <= v <= hi:
        raise InvalidInput(f"{path}.{key}", f"must be {lo}-{hi}")
    return v


def boolean(o: Mapping[str, object], key: str, path: str, default: bool) -> bool:
    """`o[key]` (or `default`) as true or false."""
    v = o.get(key, default)
    if not isinstance(v, bool):
        raise InvalidInput(f"{path}.{key}", "must be true or false")
    return v
