"""A generated month of signed journals for 20 stores, with what each store should clear per
business day computed here from the generated sales (independently of hq.clearing)."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hq.config import BoxEntry, StoreEntry
from sync.journal.chain import MemoryChain
from sync.journal.record import public_bytes

FIRST = date(2026, 11, 1)
DAYS = 30
H = 3_600_000
PRODUCTS = (("JC-1001", "不锈钢合页 4寸", 850), ("QM-2002", "净味全效墙面漆 白色", 25000),
            ("DQ-3003", "86型五孔插座 雅白", 2000), ("BC-4004", "E0级生态板", 15000),
            ("GJ-5005", "PPR等径弯头", 120))
METHODS = ("cash", "wechat", "alipay", "card", "member", "credit")


def day_of(n: int) -> str:
    """Business day n (0-based) of the month."""
    return (FIRST + timedelta(days=n)).isoformat()


def china_ms(n: int, hour: float) -> int:
    """Unix ms of `hour` o'clock China time on day n."""
    d = FIRST + timedelta(days=n)
    epoch = (d - date(1970, 1, 1)).days * 86_400_000
    return epoch + int((hour - 8) * H)


def key_of(box: str) -> Ed25519PrivateKey:
    """A box's fixed signing key."""
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(box.encode()).digest())


@dataclass
class Month:
    """The stores, each box's chain, what was planted, and the expected figures."""

    stores: dict[str, StoreEntry]
    chains: dict[str, MemoryChain]
    day_end: dict[str, list[int]]
    """Per box, the chain size at the end of each day (index = day number)."""
    expected: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    """(box, business day) → channel → net fen, from the generated bodies."""
    money_seqs: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    missing_close: tuple[str, int] = ("", 0)
    gap: tuple[str, int] = ("", 0)
    late: tuple[str, int] = ("", 0)

    def box_entries(self) -> dict[str, BoxEntry]:
        """HQ's [[boxes]] for the month."""
        return {b: BoxEntry(b, (public_bytes(key_of(b)),)) for b in self.chains}


def _sale(rng: random.Random, order: str) -> dict[str, Any]:
    sku, name, price = rng.choice(PRODUCTS)
    qty = rng.randint(1, 6)
    total = qty * price
    methods = rng.sample(METHODS, rng.choice((1, 1, 2)))
    if len(methods) == 1 or total < 2:
        pays = [{"method": methods[0], "amount": total}]
    else:
        first = rng.randint(1, total - 1)
        pays = [{"method": methods[0], "amount": first},
                {"method": methods[1], "amount": total - first}]
    return {"order": order, "till": "T1", "cashier": "C001", "salesperson": "E01",
            "lines": [{"sku": sku, "name": name, "qty": qty, "unit_price": price,
                       "amount": total}], "total": total, "payments": pays}


def generate(seed: int = 15) -> Month:
    """20 stores (the first with two boxes), 30 days; store 05 does not close day 10, store 12's
    journal breaks on day 25, store 17's only sale of day 15 reaches HQ late."""
    rng = random.Random(seed)
    stores: dict[str, StoreEntry] = {}
    chains: dict[str, MemoryChain] = {}
    for i in range(1, 21):
        sid = f"CQ-S{i:02d}"
        boxes = (f"{sid}-B1", f"{sid}-B2") if i == 1 else (f"{sid}-B1",)
        stores[sid] = StoreEntry(sid, f"重庆{i:02d}号建材店", "重庆", "store", boxes)
        for b in boxes:
            chains[b] = MemoryChain(log=hashlib.md5(b.encode()).hexdigest(), key=key_of(b),
                                    time=china_ms(0, 7), boot="boot-1",
                                    extra={"store": sid, "name": stores[sid].name})
    m = Month(stores, chains, {b: [] for b in chains})
    m.missing_close = ("CQ-S05-B1", 9)
    m.gap = ("CQ-S12-B1", 24)
    m.late = ("CQ-S17-B1", 14)
    pending: dict[str, list[tuple[int, dict[str, int]]]] = defaultdict(list)
    for n in range(DAYS):
        for box, c in chains.items():
            sales = 1 if (box, n) == m.late else rng.randint(3, 6)
            t = china_ms(n, 9)
            open_sales: list[tuple[int, dict[str, Any]]] = []
            for k in range(sales):
                t += rng.randint(5, 40) * 60_000
                body = _sale(rng, f"XS-{n:02d}{k:02d}")
                e = c.append("sale", body, t)
                seq = e.record()["seq"]
                open_sales.append((seq, body))
                pending[box].append((seq, {p["method"]: p["amount"] for p in body["payments"]}))
            if (box, n) != m.late and len(open_sales) >= 3:
                seq, body = open_sales[0]
                t += 600_000
                e = c.append("void", {"sale_seq": seq, "total": body["total"],
                                      "payments": body["payments"], "reason": "收银员录错"}, t)
                pending[box].append((e.record()["seq"], {p["method"]: -p["amount"]
                                          for p in body["payments"]}))
                seq, body = open_sales[1]
                amount = body["lines"][0]["unit_price"]
                method = body["payments"][0]["method"]
                t += 600_000
                e = c.append("refund", {"sale_seq": seq, "order": body["order"],
                                    "lines": [{**body["lines"][0], "qty": 1, "amount": amount}],
                                    "total": amount, "payments": [{"method": method,
                                                                   "amount": amount}],
                                    "reason": "顾客退货 规格不符"}, t)
                pending[box].append((e.record()["seq"], {method: -amount}))
            if rng.random() < 0.3 and (box, n) != m.late:
                t += 600_000
                e = c.append("payment", {"purpose": "top_up", "method": "cash", "amount": 50000,
                                     "customer": "K001", "note": "会员充值"}, t)
                pending[box].append((e.record()["seq"], {"cash": 50000}))
            if (box, n) != m.missing_close:
                c.day_close(day_of(n), china_ms(n, 21), till="T1", cashier="C001")
                got = m.expected.setdefault((box, day_of(n)), dict.fromkeys(METHODS, 0))
                for seq, money in pending.pop(box, []):
                    for k2, v in money.items():
                        got[k2] += v
                    m.money_seqs.setdefault((box, day_of(n)), []).append(seq)
            m.day_end[box].append(c.head.size)
    return m
