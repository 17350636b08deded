"""One box's journal as clearing reads it (pure): its money records with their business day,
and its closed Z periods, fed in seq order from 0."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hq.settlement.book import MONEY_TYPES, Settlement, Settler, china_day

CHANNELS = ("cash", "wechat", "alipay", "card", "member", "credit")
"""The payment channels finance clears, in the journal's method order (docs/journal.md §5)."""
CHANNEL_NAMES = {"cash": "现金(应存银行)", "wechat": "微信", "alipay": "支付宝",
                 "card": "银行卡", "member": "会员储值", "credit": "挂账"}


@dataclass(frozen=True)
class MoneyRecord:
    """One record that moved money: its seq, box time, type, and signed amount per channel."""

    seq: int
    time_ms: int
    type: str
    channels: Mapping[str, int]

    @property
    def provisional_day(self) -> str:
        """The China date of its time: its business day until a day close covers it."""
        return china_day(self.time_ms)


def money_of(record: Mapping[str, Any]) -> MoneyRecord | None:
    """The money a verified record moved (sales, receipts in; refunds, voids out), or None."""
    type_ = record["type"]
    if type_ not in MONEY_TYPES:
        return None
    body = record["body"]
    sign = -1 if type_ in ("refund", "void") else 1
    channels: dict[str, int] = {}
    if type_ == "payment":
        channels[body["method"]] = body["amount"]
    else:
        for p in body["payments"]:
            channels[p["method"]] = channels.get(p["method"], 0) + sign * p["amount"]
    return MoneyRecord(record["seq"], record["time"], type_, channels)


@dataclass(frozen=True)
class BoxBook:
    """What HQ holds of one box's journal at one size (an immutable snapshot)."""

    box: str
    size: int
    genesis_ms: int | None
    money: tuple[MoneyRecord, ...]
    closes: tuple[Settlement, ...]
    """Every closed Z period in order (hq.settlement.book), with its differences."""

    def close_of(self, seq: int) -> Settlement | None:
        """The day close whose period holds record `seq`, if HQ holds one."""
        i = bisect_left(self.closes, seq, key=lambda s: s.to_seq)
        if i < len(self.closes) and self.closes[i].from_seq <= seq:
            return self.closes[i]
        return None

    def day_of(self, m: MoneyRecord) -> tuple[str, bool]:
        """A money record's business day (its close's day, else its provisional day) and
        whether a day close covers it."""
        close = self.close_of(m.seq)
        return (close.day, True) if close is not None else (m.provisional_day, False)

    def last_day_below(self, seq: int) -> str | None:
        """The China date of the last money record or close HQ holds below `seq`."""
        times = [m.time_ms for m in self.money if m.seq < seq]
        times += [s.close_ms for s in self.closes if s.close_seq is not None
                  and s.close_seq < seq and s.close_ms is not None]
        return china_day(max(times)) if times else None


class BoxLedger:
    """Feeds a box's verified records in seq order (pure, incremental); `book()` snapshots."""

    def __init__(self, box: str) -> None:
        self.box = box
        self._settler = Settler(box)
        self._money: list[MoneyRecord] = []
        self._genesis_ms: int | None = None

    @property
    def size(self) -> int:
        """How many records were fed."""
        return self._settler.size

    def feed(self, record: Mapping[str, Any]) -> None:
        """Take the next record (SettlementError if it is not the one due)."""
        self._settler.feed(record)
        if record["type"] == "genesis":
            self._genesis_ms = record["time"]
        m = money_of(record)
        if m is not None:
            self._money.append(m)

    def book(self) -> BoxBook:
        """The snapshot at the current size."""
        return BoxBook(self.box, self.size, self._genesis_ms, tuple(self._money),
                       tuple(self._settler.closed))
