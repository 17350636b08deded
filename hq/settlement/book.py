"""Clearing (daily settlement): each box's takings per Z period and payment method, computed by
HQ from the journal records it verified, reconciled against the box's signed day close.

The core (`Settler`, `settle`) is pure: records in, settlements out. HQ sums the record bodies
itself — it does not copy the perpetual totals — so the comparison with the day close's signed
`period` is an independent second computation (docs/hq.md §Settlement). `SettlementBook` is the
blocking shell that feeds it from HQ's store, incrementally (stored records never change).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal

from hq import HqError
from hq.store import HqStore
from hq.store.folds import JournalFolds
from sync.journal.schema import METHODS

CHINA = timezone(timedelta(hours=8))
"""Business days of an open period are dates in China Standard Time (no daylight saving)."""
MONEY_TYPES = frozenset({"sale", "refund", "void", "payment"})
CHUNK = 5000


class SettlementError(HqError):
    """Records were fed out of order (a settlement needs the whole chain from seq 0)."""


@dataclass(frozen=True)
class MethodTotals:
    """One payment method's figures in a period, in fen."""

    method: str
    sales: int = 0
    refunds: int = 0
    voids: int = 0
    receipts: int = 0
    """Money taken outside sales: `payment` records (credit settlement, top-up, deposit)."""

    @property
    def net(self) -> int:
        """What the method brought in: sales − refunds − voids + receipts."""
        return self.sales - self.refunds - self.voids + self.receipts

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {"method": self.method, "sales": self.sales, "refunds": self.refunds,
                "voids": self.voids, "receipts": self.receipts, "net": self.net}


@dataclass(frozen=True)
class Difference:
    """A figure where HQ's computation and the box's signed day close disagree."""

    field: str
    """Dotted name in the day close body: `period.methods.cash`, `period.net`, `to_seq`, …"""
    hq: int
    box: int

    def to_json(self) -> dict[str, Any]:
        """The JSON form; `diff` is HQ's figure minus the box's."""
        return {"field": self.field, "hq": self.hq, "box": self.box, "diff": self.hq - self.box}


@dataclass(frozen=True)
class Settlement:
    """One box's settlement of one Z period (closed) or of the records since its last day
    close (open); money in fen."""

    box: str
    day: str
    """`day` of the day close; for an open period the China date of its last money record."""
    status: Literal["closed", "open"]
    z: int | None
    from_seq: int
    to_seq: int
    """Last record of the period (for a closed one, the record before the day close)."""
    methods: tuple[MethodTotals, ...]
    """Every method of docs/journal.md §5, in its order."""
    counts: Mapping[str, int]
    """Records in the period by type (zero entries omitted)."""
    sales: int
    refunds: int
    voids: int
    receipts: int
    absolute: int
    first_ms: int | None = None
    last_ms: int | None = None
    """Box times of the first and last money record (None: the period took no money)."""
    close_seq: int | None = None
    close_ms: int | None = None
    till: str | None = None
    cashier: str | None = None
    cash_counted: int | None = None
    differences: tuple[Difference, ...] = ()
    signed_period: Mapping[str, Any] | None = field(default=None, compare=False)
    claimed_day: str | None = None
    """The day close's own `day` when HQ did not believe it (`day` is then the China date of
    the close record's time) and `day_problem` says why."""
    day_problem: str | None = None

    @property
    def net(self) -> int:
        """Sales − refunds − voids (the journal's `net`; receipts are not turnover)."""
        return self.sales - self.refunds - self.voids

    @property
    def matched(self) -> bool | None:
        """True if every figure equals the signed day close; None for an open period."""
        return None if self.status == "open" else not self.differences

    def method(self, name: str) -> MethodTotals:
        """The figures of one method."""
        return next(m for m in self.methods if m.method == name)

    @property
    def cash_over(self) -> int | None:
        """Cash counted minus cash expected (positive: over, negative: short), if counted."""
        if self.cash_counted is None:
            return None
        return self.cash_counted - self.method("cash").net

    def to_json(self) -> dict[str, Any]:
        """The JSON form of GET /v1/settlements."""
        return {"box": self.box, "day": self.day, "status": self.status, "z": self.z,
                "from_seq": self.from_seq, "to_seq": self.to_seq, "close_seq": self.close_seq,
                "first_ms": self.first_ms, "last_ms": self.last_ms, "close_ms": self.close_ms,
                "till": self.till, "cashier": self.cashier,
                "methods": [m.to_json() for m in self.methods],
                "totals": {"sales": self.sales, "refunds": self.refunds, "voids": self.voids,
                           "receipts": self.receipts, "net": self.net,
                           "absolute": self.absolute,
                           "all_methods": sum(m.net for m in self.methods)},
                "counts": dict(self.counts), "matched": self.matched,
                "differences": [d.to_json() for d in self.differences],
                "signed_period": (dict(self.signed_period)
                                  if self.signed_period is not None else None),
                "claimed_day": self.claimed_day, "day_problem": self.day_problem,
                "cash": {"expected": self.method("cash").net, "counted": self.cash_counted,
                         "over": self.cash_over}}


def china_day(time_ms: int) -> str:
    """The China Standard Time date (YYYY-MM-DD) of a UTC millisecond time."""
    return datetime.fromtimestamp(time_ms / 1000, UTC).astimezone(CHINA).date().isoformat()


DAY_TOLERANCE = timedelta(days=1)
"""How far a day close's `day` may lie from the China dates of its own records (a box's local
time zone and a close just after midnight)."""


def day_problem(day: str, close_ms: int, first_ms: int | None) -> str | None:
    """Why a day close's `day` cannot be the business day it closed, or None if it can.

    A close cannot close a day after the one it was made on, nor a day before the period's
    first money record was taken (one day of tolerance each way).
    """
    made = date.fromisoformat(china_day(close_ms))
    claimed = date.fromisoformat(day)
    if claimed > made + DAY_TOLERANCE:
        return f"the close of {day} was made on {made.isoformat()}"
    if first_ms is not None:
        first = date.fromisoformat(china_day(first_ms))
        if claimed < first - DAY_TOLERANCE:
            return f"the close of {day} covers money taken on {first.isoformat()}"
    return None


class _Period:
    """The running sums of the period being fed (mutable, private to Settler)."""

    def __init__(self, from_seq: int) -> None:
        self.from_seq = from_seq
        self.by_method: dict[str, list[int]] = {m: [0, 0, 0, 0] for m in METHODS}
        self.counts: Counter[str] = Counter()
        self.sums = [0, 0, 0, 0]  # sales, refunds, voids, receipts
        self.first_ms: int | None = None
        self.last_ms: int | None = None

    def add(self, type_: str, body: Mapping[str, Any], time_ms: int) -> None:
        self.counts[type_] += 1
        if type_ not in MONEY_TYPES:
            return
        col = ("sale", "refund", "void", "payment").index(type_)
        if self.first_ms is None:
            self.first_ms = time_ms
        self.last_ms = time_ms
        if type_ == "payment":
            self.sums[col] += body["amount"]
            self._method(body["method"])[col] += body["amount"]
            return
        self.sums[col] += body["total"]
        for p in body["payments"]:
            self._method(p["method"])[col] += p["amount"]

    def _method(self, name: str) -> list[int]:
        # A method beyond the six cannot pass verification; kept visible rather than dropped.
        return self.by_method.setdefault(name, [0, 0, 0, 0])

    def settle(self, box: str, to_seq: int, close: Mapping[str, Any] | None) -> Settlement:
        sales, refunds, voids, receipts = self.sums
        base = Settlement(
            box=box, day="", status="open", z=None, from_seq=self.from_seq, to_seq=to_seq,
            methods=tuple(MethodTotals(m, *v) for m, v in self.by_method.items()),
            counts={k: v for k, v in sorted(self.counts.items()) if v}, sales=sales,
            refunds=refunds, voids=voids, receipts=receipts, absolute=sales + refunds + voids,
            first_ms=self.first_ms, last_ms=self.last_ms)
        if close is None:
            assert self.last_ms is not None
            return replace(base, day=china_day(self.last_ms))
        body = close["body"]
        problem = day_problem(body["day"], close["time"], self.first_ms)
        closed = replace(base, day=body["day"] if problem is None else china_day(close["time"]),
                         claimed_day=None if problem is None else body["day"],
                         day_problem=problem, status="closed", z=body["z"],
                         close_seq=close["seq"], close_ms=close["time"], till=body.get("till"),
                         cashier=body.get("cashier"), cash_counted=body.get("cash_counted"),
                         signed_period=body["period"])
        return replace(closed, differences=_differences(closed, body))


def _differences(s: Settlement, body: Mapping[str, Any]) -> tuple[Difference, ...]:
    """Every figure of `s` that differs from the day close `body`."""
    period = body["period"]
    signed_methods: Mapping[str, int] = period.get("methods", {})
    signed_counts: Mapping[str, int] = period.get("counts", {})
    pairs: list[tuple[str, int, int]] = [("from_seq", s.from_seq, body["from_seq"]),
                                         ("to_seq", s.to_seq, body["to_seq"]),
                                         ("period.net", s.net, period.get("net", 0)),
                                         ("period.absolute", s.absolute,
                                          period.get("absolute", 0))]
    names = [m.method for m in s.methods]
    names += sorted(set(signed_methods) - set(names))
    mine = {m.method: m.net for m in s.methods}
    pairs += [(f"period.methods.{m}", mine.get(m, 0), signed_methods.get(m, 0)) for m in names]
    pairs += [(f"period.counts.{t}", s.counts.get(t, 0), signed_counts.get(t, 0))
              for t in sorted(set(s.counts) | set(signed_counts))]
    return tuple(Difference(f, hq, box) for f, hq, box in pairs if hq != box)


class Settler:
    """One box's settlements, fed its verified records in seq order from 0 (pure, incremental)."""

    def __init__(self, box: str) -> None:
        self.box = box
        self.size = 0
        self.closed: list[Settlement] = []
        self._period = _Period(1)

    def feed(self, record: Mapping[str, Any]) -> Settlement | None:
        """Take the next record; returns the settlement a day close completes, else None."""
        seq = record["seq"]
        if seq != self.size:
            raise SettlementError(f"box {self.box}: record {seq} fed where {self.size} was due")
        self.size += 1
        type_ = record["type"]
        if type_ == "genesis":
            return None
        if type_ != "day_close":
            self._period.add(type_, record["body"], record["time"])
            return None
        done = self._period.settle(self.box, seq - 1, record)
        self.closed.append(done)
        self._period = _Period(seq + 1)
        return done

    def open(self) -> Settlement | None:
        """The records since the last day close, if they took or returned any money."""
        p = self._period
        return None if p.last_ms is None else p.settle(self.box, self.size - 1, None)

    def settlements(self) -> list[Settlement]:
        """Every closed period in order, then the open one if it has money records."""
        tail = self.open()
        return [*self.closed, *([tail] if tail else [])]


def settle(box: str, records: Iterable[Mapping[str, Any]]) -> list[Settlement]:
    """The settlements of a box's verified records (seq 0, 1, … in order)."""
    s = Settler(box)
    for r in records:
        s.feed(r)
    return s.settlements()


def on_day(settlements: Iterable[Settlement], day: str | None) -> list[Settlement]:
    """Those of business day `day` (all if None), newest day first, then box and Z."""
    chosen = [s for s in settlements if day is None or s.day == day]
    chosen.sort(key=lambda s: (s.box, s.from_seq))
    chosen.sort(key=lambda s: s.day, reverse=True)
    return chosen


class SettlementBook:
    """Every box's settlements kept current from HQ's store (blocking: call from a thread).

    Stored journal records are verified and never rewritten, so each box's Settler only reads
    what was appended since the last call.
    """

    def __init__(self, store: HqStore, chunk: int = CHUNK) -> None:
        self.store = store
        self.chunk = chunk
        self._settlers = JournalFolds(store, Settler, chunk)

    def box(self, box: str) -> list[Settlement]:
        """One box's settlements, brought up to date with what HQ holds."""
        return self._settlers.read(box, Settler.settlements) or []

    def boxes(self, boxes: Iterable[str]) -> list[Settlement]:
        """The settlements of several boxes."""
        return [s for b in sorted(set(boxes)) for s in self.box(b)]
