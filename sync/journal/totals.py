"""Perpetual totals (docs/journal.md §6): what each record adds, the arithmetic linking them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.journal.schema import TOTALS, run


@dataclass(frozen=True)
class Totals:
    """Running totals after a record; maps hold only non-zero entries (zero entries are omitted)."""

    net: int = 0
    absolute: int = 0
    methods: Mapping[str, int] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The `totals` member of a record."""
        return {"absolute": self.absolute, "counts": dict(self.counts),
                "methods": dict(self.methods), "net": self.net}

    @classmethod
    def from_json(cls, value: Any, path: str = "totals") -> Totals:
        """Parse and validate a `totals` (or day-close `period`) object."""
        run(TOTALS, value, path)
        return cls(value["net"], value["absolute"], dict(value["methods"]), dict(value["counts"]))


ZERO = Totals()


@dataclass(frozen=True)
class Effect:
    """What one record adds to the totals (besides its count)."""

    net: int
    absolute: int
    methods: tuple[tuple[str, int], ...]


_NONE = Effect(0, 0, ())


def effect(type_: str, body: Mapping[str, Any]) -> Effect:
    """A validated body's part: sales add; refunds, voids subtract from net; all add to absolute."""
    if type_ == "sale":
        total = body["total"]
        return Effect(total, total, tuple((p["method"], p["amount"]) for p in body["payments"]))
    if type_ in ("refund", "void"):
        total = body["total"]
        return Effect(-total, total, tuple((p["method"], -p["amount"]) for p in body["payments"]))
    if type_ == "payment":
        return Effect(0, 0, ((body["method"], body["amount"]),))
    return _NONE


def signed_amount(type_: str, body: Any) -> int:
    """The amount named in a record's signed statement and receipt code; 0 if the body lacks it."""
    if not isinstance(body, dict):
        return 0
    key = "amount" if type_ == "payment" else "total"
    value = body.get(key)
    if type(value) is not int or type_ not in ("sale", "refund", "void", "payment"):
        return 0
    return -value if type_ in ("refund", "void") else value


def _add(base: Mapping[str, int], deltas: tuple[tuple[str, int], ...]) -> dict[str, int]:
    out = dict(base)
    for key, delta in deltas:
        value = out.get(key, 0) + delta
        if value:
            out[key] = value
        else:
            out.pop(key, None)
    return out


def apply(before: Totals, type_: str, body: Mapping[str, Any]) -> Totals:
    """The totals after a record of `type_` with `body` (already validated) follows `before`."""
    e = effect(type_, body)
    counts = dict(before.counts)
    counts[type_] = counts.get(type_, 0) + 1
    methods = _add(before.methods, e.methods) if e.methods else before.methods
    return Totals(before.net + e.net, before.absolute + e.absolute, methods, counts)


def difference(after: Totals, before: Totals) -> Totals:
    """Component-wise `after − before` (a day close's period), zero entries omitted."""
    return Totals(
        after.net - before.net,
        after.absolute - before.absolute,
        _add(after.methods, tuple((k, -v) for k, v in before.methods.items())),
        _add(after.counts, tuple((k, -v) for k, v in before.counts.items())),
    )


def _same(found: Any, want: int) -> bool:
    return type(found) is int and found == want  # JSON true is not 1


def _same_map(found: Any, want: Mapping[str, int]) -> bool:
    return (type(found) is dict and found == want
            and all(type(v) is int for v in found.values()))


def first_difference(expected: Totals, found: Mapping[str, Any],
                     path: str = "totals") -> str | None:
    """Describe the first component where `found` (a totals object) differs from `expected`."""
    if (isinstance(found, dict) and len(found) == 4 and _same(found.get("net"), expected.net)
            and _same(found.get("absolute"), expected.absolute)
            and _same_map(found.get("methods"), expected.methods)
            and _same_map(found.get("counts"), expected.counts)):
        return None
    want = expected.to_json()
    for key in ("net", "absolute", "methods", "counts"):
        a, b = want[key], found.get(key) if isinstance(found, dict) else None
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            for sub in sorted(set(a) | set(b)):
                if a.get(sub, 0) != b.get(sub, 0) or (sub in b) != (sub in a):
                    return f"{path}.{key}.{sub}: expected {a.get(sub, 0)}, found {b.get(sub)}"
        return f"{path}.{key}: expected {a}, found {b}"
    return f"{path}: expected {want}, found {found}"
