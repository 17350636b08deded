"""Fixtures for the sales API: a box with a journal, supervisors and simulated receipt printers.

After every test each journal the test made must verify (`storelink journal verify DB`).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from agent.cli import main
from agent.config import Config, parse_config
from agent.sales.approvals import hash_secret
from tests.agent.conftest import Client, agent_client, eventually


def fast_hash(secret: str) -> str:
    """A hash with cheap scrypt parameters (the configuration accepts N ≥ 2^10)."""
    return hash_secret(secret, n=2**10)


SUPERVISOR_PIN = "8642"
SUPERVISOR_BADGE = "BADGE-M001"
PIN_HASH = fast_hash(SUPERVISOR_PIN)
BADGE_HASH = fast_hash(SUPERVISOR_BADGE)
PIN = {"supervisor": "M001", "pin": SUPERVISOR_PIN}

HINGE = {"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 40, "unit": "片", "unit_price": 850}
SCREWS = {"sku": "JC-1003", "name": "十字沉头自攻螺丝", "qty": 6, "unit": "盒", "unit_price": 1800}
ELBOW = {"sku": "JC-4002", "name": "PPR等径弯头", "qty": 120, "unit_price": 120}


def sale(order: str = "XS-20261129-0041", *, payments: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    """A sale of hinges, screws and elbows: 340.00 + 108.00 + 144.00 = 592.00 yuan."""
    return {"order": order, "clerk": "C001", "till": "T1", "member": "K002",
            "lines": [dict(HINGE), dict(SCREWS), dict(ELBOW)], "total": 59200,
            "payments": payments if payments is not None else [
                {"method": "wechat", "amount": 59200, "ref": "4200001234202611290041"}],
            **extra}


def sales_config(state_dir: Path, printers: Mapping[str, int] | None = None,
                 **journal: Any) -> Config:
    """A box whose journal has supervisor M001 (PIN 8642, badge BADGE-M001), worker badges,
    and approval thresholds of 500.00 yuan (refunds) and 200.00 yuan (voids) unless given
    (None leaves a key out)."""
    printers = dict(printers or {})
    table: dict[str, Any] = {
        "approval_refund_over_fen": 50000, "approval_void_over_fen": 20000,
        "supervisors": [{"id": "M001", "name": "刘强", "pin_hash": PIN_HASH,
                         "badge_hash": BADGE_HASH}],
        "workers": [{"id": "W001", "name": "赵大勇", "badge": "BADGE-W001"},
                    {"id": "W002", "name": "钱小红", "badge": "BADGE-W002"}]}
    if printers:
        table["receipt_printer"] = next(iter(printers))
    table.update(journal)
    table = {k: v for k, v in table.items() if v is not None}
    raw: dict[str, Any] = {
        "box": {"id": "CQ-JB-001-B1", "store": "CQ-JB-001", "name": "重庆江北建材旗舰店",
                "state_dir": str(state_dir)},
        "queue": {"poll_interval_s": 0.2, "backoff_max_s": 1.0},
        "printers": [{"id": pid, "name": f"{pid} 小票机", "profile": "generic-cn-80",
                      "transport": "tcp", "host": "127.0.0.1", "port": port,
                      "connect_timeout": 1.0, "write_timeout": 5.0}
                     for pid, port in printers.items()],
        "journal": table}
    return parse_config(raw)


@pytest.fixture(autouse=True)
def journals_verify(tmp_path: Path) -> Iterator[None]:
    """After the test: every journal database under tmp_path verifies (exit 0)."""
    yield
    for db in sorted(tmp_path.rglob("journal.db")):
        assert main(["journal", "verify", str(db)]) == 0, f"{db} does not verify"


async def post(client: Client, path: str, body: object, *, key: str | None = None,
               headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
    """POST JSON; (status, decoded answer)."""
    h = dict(headers or {})
    if key is not None:
        h["Idempotency-Key"] = key
    r = await client.post(path, json=body, headers=h)
    return r.status, await r.json()


def records(db: Path, type_: str | None = None) -> list[dict[str, Any]]:
    """Committed records of `db` (a separate connection: only what was committed)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT record FROM journal ORDER BY seq").fetchall()
    out = [json.loads(r[0]) for r in rows]
    return [r for r in out if type_ is None or r["type"] == type_]


def audits(db: Path, event: str | None = None) -> list[dict[str, Any]]:
    """The bodies of audit records (of `event`)."""
    return [r["body"] for r in records(db, "audit") if event is None or r["body"]["event"] == event]


@contextlib.asynccontextmanager
async def front_ready(tmp_path: Path, port: int) -> AsyncIterator[Client]:
    """A sales agent under `tmp_path` once its receipt printer `front` (TCP `port`) is ready."""
    async def ready() -> bool:
        return bool((await (await client.get("/v1/printers/front")).json())["ready"])

    async with agent_client(sales_config(tmp_path, {"front": port})) as (_, client):
        await eventually(ready, what="printer ready")
        yield client
