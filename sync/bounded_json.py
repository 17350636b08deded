"""JSON from outside with bounds: nesting depth and digits per number; errors name the field.

A document nested deeper than `max_depth` or holding a number longer than `max_digits`
characters is refused with JsonLimitError naming the dotted path of the offending value
(`lines[0].qty`), instead of a RecursionError or the interpreter's int-conversion ValueError.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sync import SyncError

MAX_DEPTH = 32
MAX_DIGITS = 40
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


class JsonLimitError(SyncError):
    """The text is not JSON or exceeds a bound; `field` is the dotted path ("body" at the top)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _LongNumber:
    """Stands in for a number too long to convert, until its path is known."""

    def __init__(self, text: str) -> None:
        self.text = text


def _path(parts: list[str | int], root: str) -> str:
    """`lines[0].qty` for ["lines", 0, "qty"]; `root` when `parts` is empty."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or root


def _too_deep(text: str, max_depth: int, root: str) -> str | None:
    """The path where `text` nests deeper than `max_depth`, else None (pure token scan)."""
    if text.count("[") + text.count("{") <= max_depth:
        return None
    stack: list[str | int] = []
    kinds: list[str] = []
    last_string = ""
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok[0] == '"':
            last_string = tok
        elif tok in "[{":
            if len(kinds) >= max_depth:
                return _path(stack, root)
            kinds.append(tok)
            stack.append(0 if tok == "[" else "")
        elif tok in "]}":
            if kinds:
                kinds.pop()
                stack.pop()
        elif tok == ":" and kinds and kinds[-1] == "{":
            try:
                stack[-1] = str(json.loads(last_string))
            except ValueError:
                stack[-1] = "?"
        elif tok == "," and kinds and kinds[-1] == "[":
            index = stack[-1]
            stack[-1] = index + 1 if isinstance(index, int) else 0
    return None


def _find_long(value: object, parts: list[str | int]) -> list[str | int] | None:
    if isinstance(value, _LongNumber):
        return parts
    if isinstance(value, dict):
        for k, v in value.items():
            found = _find_long(v, [*parts, str(k)])
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _find_long(v, [*parts, i])
            if found is not None:
                return found
    return None


def loads_bounded(raw: bytes | str, *, max_depth: int = MAX_DEPTH,
                  max_digits: int = MAX_DIGITS, root: str = "body") -> Any:
    """The JSON value of `raw` (UTF-8); JsonLimitError names what is invalid or too big."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as e:
        raise JsonLimitError(root, f"not valid UTF-8: {e}") from None
    deep = _too_deep(text, max_depth, root)
    if deep is not None:
        raise JsonLimitError(deep, f"nested deeper than {max_depth} levels")
    long_seen = False

    def number(s: str, convert: Any) -> Any:
        nonlocal long_seen
        if len(s) > max_digits:
            long_seen = True
            return _LongNumber(s)
        return convert(s)

    try:
        value = json.loads(text, parse_int=lambda s: number(s, int),
                           parse_float=lambda s: number(s, float),
                           parse_constant=lambda s: _refuse_constant(s, root))
    except JsonLimitError:
        raise
    except (ValueError, RecursionError) as e:
        raise JsonLimitError(root, f"not valid JSON: {e}") from None
    if long_seen:
        parts = _find_long(value, [])
        raise JsonLimitError(_path(parts or [], root),
                             f"a number of more than {max_digits} digits")
    return value


def _refuse_constant(name: str, root: str) -> Any:
    raise JsonLimitError(root, f"not valid JSON: {name} is not a JSON number")
