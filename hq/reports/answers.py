"""The reports, answered from the aggregate rows (blocking: call from a thread): sales by store,
region, clerk, product, day, week or month; comparisons; top products; payment methods; clerk
performance with first-contact credit (docs/hq.md §Reports)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from hq.reports.facts import MONTH_TO_DATE, UNASSIGNED
from hq.reports.ranges import Range, ReportError, cover, split, week_of, weeks_and_days
from hq.store.catalog import CatalogStore
from hq.store.reports import Part, ReportStore, Sums


class ReportDb(ReportStore, CatalogStore, Protocol):
    """What the reports read: the aggregates, and the catalog for product names."""


BYS = ("store", "region", "clerk", "product", "day", "week", "month")
REPORTS = ("sales", "compare", "top", "methods", "clerks")


@dataclass(frozen=True)
class Scope:
    """Which stores a report covers (None: every store, unassigned boxes too), each store's
    region, and the first-contact share."""

    stores: tuple[str, ...] | None
    region_of: Mapping[str, str]
    share: float


def _add(acc: dict[str, list[int]], key: str, s: Sums) -> None:
    row = acc.setdefault(key, [0, 0, 0, 0])
    for i in range(4):
        row[i] += s[i]


def _figures(key: str, s: Sequence[int]) -> dict[str, Any]:
    return {"key": key, "qty": s[0], "amount": s[1], "cost": s[2], "margin": s[1] - s[2],
            "orders": s[3]}


def parts_of(cube: str, r: Range) -> list[Part]:
    """The signed (cube, first, last period, sign) parts covering `r` (ranges.cover)."""
    return [(f"{cube}.{grain}", a, b, sign)
            for grain, a, b, sign in cover(r, cube in MONTH_TO_DATE)]


def summed(db: ReportDb, cube: str, r: Range, stores: Sequence[str] | None,
           key: Callable[[str, str, str], str] | None, by_store: bool = True
           ) -> dict[str, list[int]]:
    """`cube` over `r`, summed by key(period, store, key) (store '' unless `by_store`); `key`
    None: by the row's key, which the store has already summed over periods and stores."""
    rows = db.report_sums(parts_of(cube, r), stores, by_store=by_store)
    if key is None and not by_store:
        return {k: list(s) for _, _, k, s in rows}
    acc: dict[str, list[int]] = {}
    for period, store, k, s in rows:
        _add(acc, k if key is None else key(period, store, k), s)
    return acc


def _cube(stores: Sequence[str] | None) -> str:
    """Figures over every store come from the `total` cube, over some from `store`."""
    return "total" if stores is None else "store"


def _per_period(db: ReportDb, parts: list[tuple[str, str, str]],
                stores: Sequence[str] | None, label: Callable[[str], str]
                ) -> dict[str, list[int]]:
    """Sales per label(period) of the (grain, first, last) parts."""
    acc: dict[str, list[int]] = {}
    cube = _cube(stores)
    for period, _, _, s in db.report_sums([(f"{cube}.{g}", a, b, 1) for g, a, b in parts],
                                          stores, by_period=True, by_store=False):
        _add(acc, label(period), s)
    return acc


def _sorted(acc: Mapping[str, Sequence[int]], by_amount: bool, limit: int | None = None
            ) -> list[dict[str, Any]]:
    """Rows by amount (then key) or by key; the first `limit` of them if given."""
    order: Callable[[tuple[str, Sequence[int]]], Any] = (
        (lambda kv: (-kv[1][1], kv[0])) if by_amount else (lambda kv: kv[0]))
    items = (heapq.nsmallest(limit, acc.items(), key=order) if limit is not None
             else sorted(acc.items(), key=order))
    return [_figures(k, v) for k, v in items]


def _named(db: ReportDb, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Product rows with the catalog's `name` (None for a sku the catalog lacks)."""
    names = db.catalog_names(r["key"] for r in rows)
    return [{**r, "name": names.get(r["key"])} for r in rows]


def sales(db: ReportDb, scope: Scope, r: Range, by: str) -> dict[str, Any]:
    """Sales quantity, amount, cost and gross margin in `r`, one row per `by`."""
    st = scope.stores
    covered = r
    if by == "store":
        acc = summed(db, "store", r, st, lambda p, s, k: s)
    elif by == "region":
        acc = summed(db, "store", r, st, lambda p, s, k: scope.region_of.get(s, UNASSIGNED))
    elif by == "clerk":
        acc = summed(db, "clerk", r, st, lambda p, s, k: f"{s}/{k}")
    elif by == "product":
        acc, covered = _products(db, scope, r)
    elif by == "day":
        acc = _per_period(db, [("d", r.start.isoformat(), r.end.isoformat())], st, str)
    elif by == "week":
        acc = _per_period(db, weeks_and_days(r.start, r.end), st, week_of)
    else:
        acc = _by_month(db, r, st)
    total = [sum(v[i] for v in acc.values()) for i in range(4)]
    rows = _sorted(acc, by in ("store", "region", "clerk", "product"))
    return {"report": "sales", "by": by, "range": covered.to_json(),
            "rows": _named(db, rows) if by == "product" else rows,
            "total": _figures("", total)}


def _by_month(db: ReportDb, r: Range, stores: Sequence[str] | None) -> dict[str, list[int]]:
    # Week rows may straddle two months: read day rows for the days they cover.
    parts = [(g, a, b) if g != "w" else
             ("d", a, (date.fromisoformat(b) + timedelta(days=6)).isoformat())
             for g, a, b in split(r)]
    return _per_period(db, parts, stores, lambda p: p[:7])


def _products(db: ReportDb, scope: Scope, r: Range) -> tuple[dict[str, list[int]], Range]:
    """Per product: over every store by day and month rows; over some stores by whole months
    (the range widened to them)."""
    if scope.stores is None:
        return summed(db, "product", r, None, None, by_store=False), r
    months = r.whole_months()
    acc: dict[str, list[int]] = {}
    # One part per month: `period = ?` lets the key's store column narrow each read.
    parts = []
    m = months.start
    while m <= months.end:
        parts.append(("product_store.m", m.isoformat()[:7], m.isoformat()[:7], 1))
        m = (m + timedelta(days=32)).replace(day=1)
    for _, _, k, s in db.report_sums(parts, scope.stores, by_store=False):
        _add(acc, k, s)
    return acc, months


def top(db: ReportDb, scope: Scope, r: Range, limit: int) -> dict[str, Any]:
    """The `limit` products with the highest amount in `r`."""
    acc, covered = _products(db, scope, r)
    return {"report": "top", "range": covered.to_json(),
            "rows": _named(db, _sorted(acc, True, limit))}


def methods(db: ReportDb, scope: Scope, r: Range) -> dict[str, Any]:
    """Amount and payment count per payment method in `r` (refunds and voids subtract)."""
    acc = summed(db, "method", r, scope.stores, None, by_store=False)
    rows: list[dict[str, Any]] = [{"method": k, "amount": v[1], "payments": v[3]}
                                  for k, v in acc.items()]
    rows.sort(key=lambda x: (-x["amount"], x["method"]))
    return {"report": "methods", "range": r.to_json(), "rows": rows,
            "total": sum(x["amount"] for x in rows)}


def _total(db: ReportDb, scope: Scope, r: Range) -> dict[str, Any]:
    acc = summed(db, _cube(scope.stores), r, scope.stores, lambda p, s, k: "", by_store=False)
    return {**_figures("", acc.get("", [0, 0, 0, 0])), **r.to_json()}


def _change(now: int, before: int) -> float | None:
    return None if before == 0 else round((now - before) / abs(before), 4)


def compare(db: ReportDb, scope: Scope, r: Range) -> dict[str, Any]:
    """The range's totals beside the same days a week earlier and a month earlier."""
    cur = _total(db, scope, r)
    week = _total(db, scope, r.shifted_days(-7))
    month = _total(db, scope, r.month_before())
    return {"report": "compare", "current": cur, "week_before": week, "month_before": month,
            "week_over_week": _change(cur["amount"], week["amount"]),
            "month_over_month": _change(cur["amount"], month["amount"])}


def clerks(db: ReportDb, scope: Scope, r: Range) -> dict[str, Any]:
    """Per clerk (store/clerk): own sales, and first-contact credit — the configured share of
    later sales of the members the clerk first served, wherever they were made."""
    own = summed(db, "clerk", r, scope.stores, lambda p, s, k: f"{s}/{k}")
    base = summed(db, "credit", r, scope.stores, lambda p, s, k: f"{s}/{k}")
    rows = []
    for key in sorted(own.keys() | base.keys()):
        o = own.get(key, [0, 0, 0, 0])
        b = base.get(key, [0, 0, 0, 0])
        credit = round(b[1] * scope.share)
        store, clerk = key.split("/", 1)
        rows.append({**_figures(key, o), "store": store, "clerk": clerk,
                     "contact_sales": b[1], "contact_credit": credit,
                     "performance": o[1] + credit})
    rows.sort(key=lambda x: (-x["performance"], x["key"]))
    return {"report": "clerks", "range": r.to_json(), "share": scope.share, "rows": rows}


def answer(db: ReportDb, report: str, scope: Scope, r: Range,
           query: Mapping[str, str]) -> dict[str, Any]:
    """One report by name; ReportError naming the query parameter at fault."""
    if report == "sales":
        by = query.get("by", "store")
        if by not in BYS:
            raise ReportError(400, "by", "must be one of " + ", ".join(BYS))
        return sales(db, scope, r, by)
    if report == "top":
        text = query.get("limit", "10")
        if not text.isdigit() or not 1 <= int(text) <= 100:
            raise ReportError(400, "limit", "must be an integer 1-100")
        return top(db, scope, r, int(text))
    if report == "methods":
        return methods(db, scope, r)
    if report == "compare":
        return compare(db, scope, r)
    if report == "clerks":
        return clerks(db, scope, r)
    raise ReportError(404, "report", "no such report; reports are: " + ", ".join(REPORTS))
