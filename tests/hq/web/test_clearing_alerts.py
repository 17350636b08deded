"""A clearing run books the 不一致 of a day close: the `clearing_difference` alert of that
close (latched, so HQ's rounds never clear it) is cleared by the run, and no other alert is."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hq.alert_config import AlertConfig
from hq.alerts.book import raise_alert
from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from tests.hq.journals import HQ_KEY
from tests.hq.reports.shop import T0, Box

Client = TestClient[web.Request, web.Application]
TOKEN = "t" * 32
NOW = T0 + 14 * 3_600_000
"""23:00 China time on the day of the sales."""


async def test_a_run_clears_the_difference_alert_of_the_close_it_books(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hq.db")
    # A close whose figures differ from its sale (cash 850 sold, 800 closed). No real chain can
    # hold one (the writer and the verifier check the totals); HQ's settlement guards against
    # a rule drifting between versions, so the close is forged in the stored bytes.
    b = Box("CQ-JB-001-B1", "CQ-JB-001")
    b.sale([("JC-1001", 1)], method="cash")
    b.chain.day_close("2026-11-29", b.tick(10))
    b.store_into(store)
    forged = json.loads(b.chain.entries[-1].raw)
    forged["body"]["period"].update(net=800, absolute=800, methods={"cash": 800})
    with sqlite3.connect(tmp_path / "hq.db") as db:
        assert db.execute("UPDATE journal SET raw = ? WHERE box = ? AND seq = ?",
                          (json.dumps(forged, ensure_ascii=False).encode(), b.id,
                           forged["seq"])).rowcount == 1
    cfg = AlertConfig()
    booked = raise_alert(store, cfg, "clearing_difference", f"{b.id}#z1", T0, box=b.id)
    other = raise_alert(store, cfg, "clearing_difference", f"{b.id}#z9", T0, box=b.id)
    assert booked is not None and other is not None
    clock = lambda: NOW  # noqa: E731
    ctx = ApiContext(store, Registry(store, clock),
                     Dispatcher(store, _no_broker, clock, HQ_KEY, 86_400, 300), TOKEN, (b.id,))
    ctx.alerts = cfg
    client: Client = TestClient(TestServer(make_app(ctx)), headers={
        "Authorization": f"Bearer {TOKEN}"})
    await client.start_server()
    try:
        r = await client.post("/v1/clearing/runs", json={"day": "2026-11-29"})
        assert r.status == 201, await r.text()
        flags = [f["code"] for ln in (await r.json())["lines"] for f in ln["flags"]]
        assert "mismatch" in flags
    finally:
        await client.close()
    cleared, kept = store.alert(booked), store.alert(other)
    assert cleared is not None and cleared.cleared_ms == NOW
    assert kept is not None and kept.cleared_ms is None
    store.close()


async def _no_broker(topic: str, payload: bytes, expiry_s: int) -> bool:
    return False
