"""Typed reads of JSON objects for the document parsers, in the validation layer's words:
errors name the dotted field, wrong types say what they got, unknown keys the nearest known."""

from __future__ import annotations

from collections.abc import Mapping

from drivers import InvalidInput
from validation.reasons import got, unknown_key


def obj(v: object, path: str) -> Mapping[str, object]:
    """`v` as an object, or InvalidInput at `path`."""
    if not isinstance(v, Mapping):
        raise InvalidInput(path, f"must be an object, got {got(v)}")
    return v


def only(o: Mapping[str, object], path: str, allowed: set[str]) -> None:
    """InvalidInput naming the first key of `o` not in `allowed` (and the nearest that is)."""
    for k in o:
        if k not in allowed:
            raise InvalidInput(f"{path}.{k}", unknown_key(k, allowed, toml=False))


def integer(o: Mapping[str, object], key: str, path: str, default: int, lo: int, hi: int) -> int:
    """`o[key]` (or `default`) as an integer within [lo, hi]."""
    v = o.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidInput(f"{path}.{key}", f"must be an integer, got {got(v)}")
    if not lo <= v <= hi:
        raise InvalidInput(f"{path}.{key}", f"must be {lo}-{hi}")
    return v


def boolean(o: Mapping[str, object], key: str, path: str, default: bool) -> bool:
    """`o[key]` (or `default`) as true or false."""
    v = o.get(key, default)
    if not isinstance(v, bool):
        raise InvalidInput(f"{path}.{key}", f"must be true or false, got {got(v)}")
    return v
