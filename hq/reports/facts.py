"""The pure core of HQ's reports: a verified journal record becomes a `Fact`, and a fact with
the catalog's costs and the member's first-contact clerk becomes additions to the aggregate rows
(docs/hq.md §Reports). Refunds and voids add negative figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

CHINA = timezone(timedelta(hours=8))
"""Business days are dates in China Standard Time (as in hq.settlement.book)."""

UNASSIGNED = "-"
"""The store of a box no `[[stores]]` entry lists, and the clerk of a sale that names none."""

DAY_CUBES = ("store", "total", "clerk", "method", "product", "credit")
"""Cubes kept per day, ISO week, month and year (cube `X.d`, `X.w`, `X.m` and `X.y`)."""
MONTH_TO_DATE = ("product", "clerk", "credit")
"""Cubes with many keys, also kept month-to-date (`X.c`: per day, the sum from the month's
first day to that day), so any range reads at most three of their rows per key besides whole
months (a record adds to the rows of its day up to the month's last day)."""
MONTH_ONLY = ("product_store",)
"""Cubes kept per month only (a product in one store, per day, would be as large as the raw
lines)."""

Key = tuple[str, str, str, str]
"""(cube, period, store, key) of one aggregate row."""


@dataclass(frozen=True)
class Line:
    """One sale line as the reports count it: product, quantity and amount in fen."""

    sku: str
    qty: int
    amount: int


@dataclass(frozen=True)
class Fact:
    """What one sale, refund or void adds to the reports; `sign` is -1 for refunds and voids.

    `origin` is the (box, seq) of the sale itself, or of the sale a refund or void names.
    """

    box: str
    seq: int
    kind: str
    day: str
    store: str
    clerk: str
    member: str | None
    sign: int
    lines: tuple[Line, ...]
    payments: tuple[tuple[str, int], ...]
    origin: tuple[str, int]

    @property
    def orders(self) -> int:
        """+1 for a sale, -1 for a void (the sale is undone), 0 for a refund."""
        return {"sale": 1, "void": -1}.get(self.kind, 0)


def china_day(ms: int) -> str:
    """The business day (China Standard Time) of a UTC millisecond timestamp."""
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d")


def clerk_of(sale_body: Mapping[str, Any]) -> str:
    """Who is credited with a sale: its salesperson, else its cashier, else UNASSIGNED."""
    return str(sale_body.get("salesperson") or sale_body.get("cashier") or UNASSIGNED)


def _lines(body: Mapping[str, Any]) -> tuple[Line, ...]:
    return tuple(Line(str(ln["sku"]), int(ln["qty"]), int(ln["amount"]))
                 for ln in body.get("lines", ()))


def _payments(body: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple((str(p["method"]), int(p["amount"])) for p in body.get("payments", ()))


def fact_of(box: str, store: str, record: Mapping[str, Any],
            sale: Mapping[str, Any] | None = None) -> Fact | None:
    """The fact of a verified record (None for types reports do not count). A refund or void
    needs `sale`, the body of the sale it names (same box, lower seq): its clerk and member, and
    for a void its lines."""
    kind = record.get("type")
    if kind not in ("sale", "refund", "void"):
        return None
    body: Mapping[str, Any] = record["body"]
    seq = int(record["seq"])
    day = china_day(int(record["time"]))
    if kind == "sale":
        return Fact(box, seq, "sale", day, store, clerk_of(body), _member(body), 1,
                    _lines(body), _payments(body), (box, seq))
    if sale is None:
        raise ValueError(f"{kind} {box}/{seq} needs the body of sale {body['sale_seq']}")
    lines = _lines(body) if kind == "refund" else _lines(sale)
    return Fact(box, seq, str(kind), day, store, clerk_of(sale), _member(sale), -1, lines,
                _payments(body), (box, int(body["sale_seq"])))


def _member(body: Mapping[str, Any]) -> str | None:
    c = body.get("customer")
    return str(c) if c else None


def _add(out: dict[Key, list[int]], key: Key, qty: int, amount: int, cost: int,
         n: int) -> None:
    row = out.setdefault(key, [0, 0, 0, 0])
    row[0] += qty
    row[1] += amount
    row[2] += cost
    row[3] += n


def monday_of(day: str) -> str:
    """The Monday (ISO date) of the ISO week holding `day`."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


@lru_cache(maxsize=512)
def _periods(day: str, to_date: bool) -> tuple[tuple[str, str], ...]:
    """(grain, period) of every row a fact of `day` adds to (month-to-date rows if asked)."""
    out = [("d", day), ("w", monday_of(day)), ("m", day[:7]), ("y", day[:4])]
    if to_date:
        d = date.fromisoformat(day)
        while d.isoformat()[:7] == day[:7]:
            out.append(("c", d.isoformat()))
            d += timedelta(days=1)
    return tuple(out)


def _both(out: dict[Key, list[int]], cube: str, day: str, store: str, key: str, qty: int,
          amount: int, cost: int, n: int) -> None:
    for grain, period in _periods(day, cube in MONTH_TO_DATE):
        _add(out, (f"{cube}.{grain}", period, store, key), qty, amount, cost, n)


def add_fact(out: dict[Key, list[int]], fact: Fact, costs: Mapping[str, int],
             credit_to: tuple[str, str] | None) -> None:
    """Add `fact` to `out` (qty, amount, cost, n by row key); `costs` by sku (a sku not in the
    catalog costs 0); `credit_to` the (store, clerk) holding the member's first contact when
    this is a later sale of that member (None: no credit)."""
    s = fact.sign
    qty = amount = cost = 0
    for ln in fact.lines:
        c = ln.qty * costs.get(ln.sku, 0)
        qty += ln.qty
        amount += ln.amount
        cost += c
        _both(out, "product", fact.day, "", ln.sku, s * ln.qty, s * ln.amount, s * c, 0)
        _add(out, ("product_store.m", fact.day[:7], fact.store, ln.sku), s * ln.qty,
             s * ln.amount, s * c, 0)
    n = fact.orders
    _both(out, "store", fact.day, fact.store, "", s * qty, s * amount, s * cost, n)
    _both(out, "total", fact.day, "", "", s * qty, s * amount, s * cost, n)
    _both(out, "clerk", fact.day, fact.store, fact.clerk, s * qty, s * amount, s * cost, n)
    for method, paid in fact.payments:
        _both(out, "method", fact.day, fact.store, method, 0, s * paid, 0, s)
    if credit_to is not None:
        _both(out, "credit", fact.day, credit_to[0], credit_to[1], s * qty, s * amount,
              s * cost, n)


def fold(facts: Iterable[tuple[Fact, tuple[str, str] | None]], costs: Mapping[str, int]
         ) -> dict[Key, list[int]]:
    """The additions of several facts, each with its credit target."""
    out: dict[Key, list[int]] = {}
    for fact, credit_to in facts:
        add_fact(out, fact, costs, credit_to)
    return out
