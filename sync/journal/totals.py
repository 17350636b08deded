"""Perpetual totals (docs/journal.md §6): what each record adds, the arithmetic linking them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from sync.journal import RecordError
from sync.journal.schema import TOTALS, run


@dataclass(frozen=True)
class Totals:
    """Running totals after a record; maps hold only non-zero entries (zero entries are omitted)."""

    net: int = 0
    absolute: int = 0
    methods: Mapping[str, int] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)

    def __init__(self, net: int = 0, absolute: int = 0, methods: Mapping[str, int] | None = None,
                 counts: Mapping[str, int] | None = None) -> None:
        # Made for every record written and verified: see ChainHead.__init__ (sync.journal.rules).
        d = self.__dict__
        d["net"], d["absolute"] = net, absolute
        d["methods"] = {} if methods is None else methods
        d["counts"] = {} if counts is None else counts

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


def _add(base: Mapping[str, int], deltas: Iterable[tuple[str, int]]) -> dict[str, int]:
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
    counts = dict(before.counts)
    counts[type_] = counts.get(type_, 0) + 1
    # effect() inlined: this runs for every record written and verified.
    if type_ == "sale":
        total = body["total"]
        payments = body["payments"]
        methods = (_add(before.methods, [(p["method"], p["amount"]) for p in payments])
                   if payments else before.methods)
        return Totals(before.net + total, before.absolute + total, methods, counts)
    if type_ in ("refund", "void"):
        total = body["total"]
        payments = body["payments"]
        methods = (_add(before.methods, [(p["method"], -p["amount"]) for p in payments])
                   if payments else before.methods)
        return Totals(before.net - total, before.absolute + total, methods, counts)
    if type_ == "payment":
        methods = _add(before.methods, [(body["method"], body["amount"])])
        return Totals(before.net, before.absolute, methods, counts)
    return Totals(before.net, before.absolute, before.methods, counts)


def canonical_text(totals: Totals) -> str:
    """The canonical JSON of `totals.to_json()` for totals made by apply() (or from_json):
    integer values only, which this does not check."""
    counts, methods = totals.counts, totals.methods
    c = ",".join([f"{encode_basestring(k)}:{counts[k]}" for k in sorted(counts)])
    m = ",".join([f"{encode_basestring(k)}:{methods[k]}" for k in sorted(methods)])
    return f'{{"absolute":{totals.absolute},"counts":{{{c}}},"methods":{{{m}}},"net":{totals.net}}}'


def follow(before: Totals, type_: str, body: Mapping[str, Any], found: Any) -> Totals:
    """The totals after this record, which must equal `found` (its `totals`); else RecordError."""
    after = apply(before, type_, body)
    if not _equal(after, found):
        raise RecordError("totals", first_difference(after, found) or "differ", "totals")
    return after


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


_INT_ONLY = frozenset((int,))


def _same_map(found: Any, want: Mapping[str, int]) -> bool:
    return (type(found) is dict and found == want
            and _INT_ONLY.issuperset(map(type, found.values())))


def _equal(expected: Totals, found: Any) -> bool:
    return (isinstance(found, dict) and len(found) == 4 and _same(found.get("net"), expected.net)
            and _same(found.get("absolute"), expected.absolute)
            and _same_map(found.get("methods"), expected.methods)
            and _same_map(found.get("counts"), expected.counts))


def first_difference(expected: Totals, found: Mapping[str, Any],
                     path: str = "totals") -> str | None:
    """Describe the first component where `found` (a totals object) differs from `expected`."""
    if _equal(expected, found):
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
