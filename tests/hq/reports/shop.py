"""Shops for report tests: boxes whose signed journals hold sales, refunds and voids (real
record format), stored at HQ as verified journals, and a straight recomputation of the report
aggregates from the records."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hq.store import HqStore, StoredEntry
from sync.journal.chain import MemoryChain

T0 = 1_795_914_000_000
"""2026-11-29 09:00 in China: a few days before a month's end."""
HOUR = 3_600_000
CATALOG_FILE = Path(__file__).resolve().parents[3] / "examples" / "data" / "catalog.json"
SOLD = ("JC-1001", "JC-1002", "JC-1003", "JC-2001")
"""The products these shops sell (of examples/data/catalog.json)."""
_CATALOG = {p["sku"]: p for p in json.loads(CATALOG_FILE.read_text(encoding="utf-8"))}
COSTS = {s: int(_CATALOG[s]["cost"]) for s in SOLD}
NAMES = {s: str(_CATALOG[s]["name"]) for s in SOLD}
PRICES = {s: int(_CATALOG[s]["price"]) for s in SOLD}
CHINA = timezone(timedelta(hours=8))


def box_key(box: str) -> Ed25519PrivateKey:
    """A fixed key per box name."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(box.encode()).digest())


@dataclass
class Box:
    """One box's journal being written, and what its sales are (for refunds and voids)."""

    id: str
    store: str
    chain: MemoryChain = field(init=False)
    time: int = T0
    sales: dict[int, dict[str, Any]] = field(default_factory=dict)
    refunded: set[int] = field(default_factory=set)
    voided: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        log = hashlib.sha256(b"log:" + self.id.encode()).hexdigest()[:32]
        self.chain = MemoryChain(log=log, key=box_key(self.id), time=self.time, boot="boot-1")

    def tick(self, hours: int) -> int:
        """Move the box's clock on."""
        self.time += hours * HOUR
        return self.time

    def sale(self, lines: list[tuple[str, int]], *, cashier: str = "C001",
             salesperson: str | None = None, customer: str | None = None,
             method: str = "wechat", hours: int = 1) -> int:
        """A sale of (sku, qty) lines at list price; its seq."""
        ls: list[dict[str, Any]] = [
            {"sku": s, "name": NAMES[s], "qty": q, "unit_price": PRICES[s],
             "amount": q * PRICES[s]} for s, q in lines]
        total = sum(x["amount"] for x in ls)
        body: dict[str, Any] = {"order": f"XS-{len(self.chain.entries)}", "cashier": cashier,
                                "lines": ls, "total": total,
                                "payments": [{"method": method, "amount": total}] if total else []}
        if salesperson:
            body["salesperson"] = salesperson
        if customer:
            body["customer"] = customer
        e = self.chain.append("sale", body, self.tick(hours))
        seq = int(json.loads(e.raw)["seq"])
        self.sales[seq] = body
        return seq

    def refund(self, sale_seq: int, line: int = 0, qty: int = 1, hours: int = 1) -> int:
        """Refund `qty` of one line of a sale, in cash; its seq."""
        ln = self.sales[sale_seq]["lines"][line]
        amount = qty * ln["unit_price"]
        body = {"sale_seq": sale_seq, "order": f"TH-{len(self.chain.entries)}",
                "lines": [{**ln, "qty": qty, "amount": amount}], "total": amount,
                "payments": [{"method": "cash", "amount": amount}], "reason": "顾客退货"}
        e = self.chain.append("refund", body, self.tick(hours))
        self.refunded.add(sale_seq)
        return int(json.loads(e.raw)["seq"])

    def void(self, sale_seq: int, hours: int = 1) -> int:
        """Void a whole sale; its seq."""
        s = self.sales[sale_seq]
        e = self.chain.append("void", {"sale_seq": sale_seq, "total": s["total"],
                                       "payments": s["payments"], "reason": "收银错误"},
                              self.tick(hours))
        self.voided.add(sale_seq)
        return int(json.loads(e.raw)["seq"])

    def store_into(self, store: HqStore, upto: int | None = None) -> None:
        """Append the box's entries HQ does not hold yet (up to seq `upto`) to HQ's store, as
        ingest does after verifying them."""
        head = store.journal_head(self.id)
        size = head.size if head else 0
        end = len(self.chain.entries) if upto is None else min(upto, len(self.chain.entries))
        new = [StoredEntry(i, e.raw, e.hash, e.sig)
               for i, e in enumerate(self.chain.entries[size:end], start=size)]
        if new:
            assert store.journal_append(self.id, self.chain.head.log, size, new,
                                        {"cosigner": "t"}, 0)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d")


def recompute(boxes: list[Box], costs: dict[str, int],
              contact_order: list[tuple[str, int]] | None = None
              ) -> dict[tuple[str, str, str, str], tuple[int, int, int, int]]:
    """The aggregate rows computed straight from every box's records: per record its signed
    lines, each added to every cube it belongs to. First contacts are taken in
    `contact_order` (box, seq) if given, else box by box in seq order."""
    recs = {(b.id, json.loads(e.raw)["seq"]): (b, json.loads(e.raw)) for b in boxes
            for e in b.chain.entries}
    out: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    contact: dict[str, tuple[str, str, tuple[str, int]]] = {}
    order = contact_order or sorted(recs)
    for key in order:
        b, r = recs[key]
        if r["type"] not in ("sale", "refund", "void"):
            continue
        sale = r if r["type"] == "sale" else recs[(b.id, r["body"]["sale_seq"])][1]
        sign = 1 if r["type"] == "sale" else -1
        lines = (r if r["type"] != "void" else sale)["body"]["lines"]
        clerk = sale["body"].get("salesperson") or sale["body"].get("cashier") or "-"
        day = _day(r["time"])
        orders = {"sale": 1, "void": -1, "refund": 0}[r["type"]]
        qty = sum(ln["qty"] for ln in lines) * sign
        amount = sum(ln["amount"] for ln in lines) * sign
        cost = sum(ln["qty"] * costs.get(ln["sku"], 0) for ln in lines) * sign
        monday = (datetime.fromisoformat(day) - timedelta(
            days=datetime.fromisoformat(day).weekday())).strftime("%Y-%m-%d")
        grains = (("d", day), ("w", monday), ("m", day[:7]), ("y", day[:4]))
        # Month-to-date rows: the record's day and every later day of its month.
        to_date = (*grains, *(("c", d) for d in _rest_of_month(day)))
        for grain, period in grains:
            for cube, st, k in (("store", b.store, ""), ("total", "", "")):
                _plus(out, (f"{cube}.{grain}", period, st, k), qty, amount, cost, orders)
        for grain, period in to_date:
            _plus(out, (f"clerk.{grain}", period, b.store, clerk), qty, amount, cost, orders)
            for ln in lines:
                c = ln["qty"] * costs.get(ln["sku"], 0)
                _plus(out, (f"product.{grain}", period, "", ln["sku"]), sign * ln["qty"],
                      sign * ln["amount"], sign * c, 0)
        for grain, period in grains:
            for p in r["body"]["payments"]:
                _plus(out, (f"method.{grain}", period, b.store, p["method"]), 0,
                      sign * p["amount"], 0, sign)
        for ln in lines:
            c = ln["qty"] * costs.get(ln["sku"], 0)
            _plus(out, ("product_store.m", day[:7], b.store, ln["sku"]), sign * ln["qty"],
                  sign * ln["amount"], sign * c, 0)
        member = sale["body"].get("customer")
        if member:
            origin = (b.id, sale["seq"])
            if member not in contact:
                contact[member] = (b.store, clerk, origin)
            elif contact[member][2] != origin:
                st, cl, _ = contact[member]
                for grain, period in to_date:
                    _plus(out, (f"credit.{grain}", period, st, cl), qty, amount, cost, orders)
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items() if any(v)}


def _rest_of_month(day: str) -> list[str]:
    d = datetime.fromisoformat(day)
    out = []
    while d.strftime("%Y-%m") == day[:7]:
        out.append(d.strftime("%Y-%m-%d"))
        d += timedelta(days=1)
    return out


def _plus(out: dict[tuple[str, str, str, str], list[int]], key: tuple[str, str, str, str],
          *values: int) -> None:
    row = out[key]
    for i, v in enumerate(values):
        row[i] += v


def aggregates(store: HqStore) -> dict[tuple[str, str, str, str], tuple[int, int, int, int]]:
    """Every non-zero aggregate row HQ holds."""
    rows: dict[tuple[str, str, str, str], tuple[int, int, int, int]] = {}
    for cube in ("store", "total", "clerk", "method", "product", "credit"):
        for g in ("d", "w", "m", "y", "c"):
            for period, st, k, s in store.report_sums([(f"{cube}.{g}", "0", "9", 1)], None, True):
                if any(s):
                    rows[(f"{cube}.{g}", period, st, k)] = s
    for period, st, k, s in store.report_sums([("product_store.m", "0", "9", 1)], None, True):
        if any(s):
            rows[("product_store.m", period, st, k)] = s
    return rows
