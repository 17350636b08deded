"""HQ verifies and settles a day with weighed and cut goods (rule M lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hq.settlement.book import SettlementBook, settle
from hq.store.sqlite import SqliteStore
from sync.journal import RecordError
from sync.journal.chain import MemoryChain
from tests.hq.journals import BOX, BOX_KEY, LOG, batch, ingest_of

BASE = 1_796_601_600_000  # 2026-12-07 09:00 China time
SCREWS = {"sku": "JC-1003S", "name": "十字沉头自攻螺丝 散装", "qty": 1, "unit": "kg",
          "unit_price": 3184, "amount": 3184, "weight_g": 1234, "unit_price_per_kg": 2580}
CABLE = {"sku": "JC-5002M", "name": "BV铜芯电线 散剪", "qty": 1, "unit": "m",
         "unit_price": 875, "amount": 875, "length_mm": 2500, "unit_price_per_m": 350}


def sale(order: str, lines: list[dict[str, Any]], method: str) -> dict[str, Any]:
    total = sum(ln["amount"] for ln in lines)
    return {"order": order, "lines": lines, "total": total, "till": "T1", "cashier": "C001",
            "payments": [{"method": method, "amount": total}]}


def test_a_day_of_weighed_goods_is_verified_and_settled(tmp_path: Path) -> None:
    c = MemoryChain(log=LOG, key=BOX_KEY, time=BASE, boot="boot-1",
                    extra={"store": "CQ-JB-001", "name": "重庆江北建材旗舰店"})
    c.append("sale", sale("XS-0007", [dict(SCREWS), dict(CABLE)], "cash"), BASE + 60_000)
    c.append("sale", sale("XS-0008", [{**SCREWS, "weight_g": 2345, "unit_price": 6050,
                                       "amount": 6050}], "wechat"), BASE + 120_000)
    c.day_close("2026-12-07", BASE + 600 * 60_000, till="T1", cashier="C001", cash_counted=4059)
    store = SqliteStore(tmp_path / "hq.db")
    ingest = ingest_of(store, BOX_KEY, BASE + 10**9)
    assert ingest.ingest(batch(c, 0, len(c.entries))).ack.status == "ok"
    [day] = SettlementBook(store).box(BOX)
    assert day == settle(BOX, [e.record() for e in c.entries])[0]
    assert (day.status, day.matched, day.sales) == ("closed", True, 4059 + 6050)
    assert day.method("cash").net == 4059 and day.method("wechat").net == 6050
    assert day.cash_over == 0
    store.close()


def test_a_weighed_line_that_does_not_add_up_is_never_signed() -> None:
    c = MemoryChain(log=LOG, key=BOX_KEY, time=BASE, boot="boot-1")
    bad = sale("XS-0009", [{**SCREWS, "weight_g": 1300}], "cash")  # amount still for 1234 g
    with pytest.raises(RecordError) as exc:
        c.append("sale", bad, BASE + 60_000)
    assert exc.value.field == "body.lines[0].amount"
