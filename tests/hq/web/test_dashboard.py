"""The HQ dashboard page and the JSON it reads, on a real HQ app and a real SQLite store filled
through HQ's ingest, registry and dispatch paths."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.store import HqStore
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from sync.journal.chain import MemoryChain
from sync.journal.vectors import BOX1, HQ, HQ_NAME, build
from sync.protocol.messages import (
    Birth,
    DeviceState,
    EventsBatch,
    IntakeEvent,
    JobEvent,
    JournalBatch,
    JournalPosition,
    Telemetry,
)
from tests.hq.journals import ingest_of, obj

Client = TestClient[web.Request, web.Application]
BOX = "CQ-JB-001-B1"
OTHER = "CD-WH-003-B1"
NOW = 1_796_000_500_000
TOKEN = "t" * 24


def journal_batch(c: MemoryChain, start: int, end: int) -> JournalBatch:
    return JournalBatch(BOX, c.head.log, start, tuple(obj(e) for e in c.entries[start:end]))


@pytest.fixture
def store(tmp_path: Path) -> HqStore:
    """HQ's store holding the test-vector journal (verified and countersigned on the way in),
    a born box with telemetry, and a cloud print job the box answered."""
    s = SqliteStore(tmp_path / "hq.db")
    ingest = ingest_of(s, BOX1, NOW, hq=HQ, cosigner=HQ_NAME)
    chain, _ = build()
    assert ingest.ingest(journal_batch(chain, 0, 10)).ack.status == "ok"
    assert ingest.ingest(journal_batch(chain, 10, len(chain.entries))).ack.status == "ok"
    reg = Registry(s, lambda: NOW)
    devices = (DeviceState("front", "printer", "paper_out", "缺纸"),)
    reg.birth(Birth(BOX, 7, NOW, "0.1.0", "CQ-JB-001", devices, JournalPosition(20, 20), 30,
                    "重庆江北建材旗舰店"))
    reg.telemetry(Telemetry(BOX, 7, 1, NOW, 3600, devices, {"front": 2}, JournalPosition(22, 20),
                            85_478_359_040, 48250))
    return s


async def start(store: HqStore, token: str = "") -> Client:
    disp = Dispatcher(store, _published, lambda: NOW, HQ, 86_400, 300)
    app = make_app(ApiContext(store, Registry(store, lambda: NOW), disp, token, (BOX, OTHER)))
    client: Client = TestClient(TestServer(app), headers={"Content-Type": "application/json"})
    await client.start_server()
    return client


async def _published(topic: str, payload: bytes, expiry_s: int) -> bool:
    return True


@pytest.fixture
async def client(store: HqStore) -> AsyncIterator[Client]:
    c = await start(store)
    yield c
    await c.close()


async def get(client: Client, path: str, status: int = 200) -> Any:
    r = await client.get(path)
    assert r.status == status, await r.text()
    assert r.content_type == "application/json"
    return await r.json()


async def test_the_page_is_served_in_chinese(client: Client) -> None:
    r = await client.get("/")
    assert r.status == 200 and r.content_type == "text/html" and r.charset == "utf-8"
    page = await r.text()
    for title in ("门店设备", "云打印", "日结", "告警", "现金", "微信", "支付宝", "银行卡",
                  "会员储值", "挂账"):
        assert title in page
    for api in ("/v1/boxes", "/v1/print-jobs", "/v1/settlements", "/v1/alarms"):
        assert api in page
    assert "http://" not in page and "https://" not in page  # no external assets


async def test_with_a_token_a_browser_is_sent_to_sign_in(store: HqStore) -> None:
    c = await start(store, TOKEN)
    try:
        r = await c.get("/", headers={"Accept": "text/html"}, allow_redirects=False)
        assert (r.status, r.headers["Location"]) == (303, "/login")
        assert (await c.get("/login")).status == 200
        assert (await c.get("/")).status == 401
        assert (await c.get("/v1/settlements")).status == 401
        r = await c.get("/v1/settlements", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status == 200
    finally:
        await c.close()


async def test_settlement_of_a_closed_day_matches_the_signed_day_close(client: Client) -> None:
    body = await get(client, "/v1/settlements?day=2026-11-29")
    assert body["day"] == "2026-11-29" and body["days"] == ["2026-11-30", "2026-11-29"]
    [s] = body["settlements"]
    assert (s["box"], s["status"], s["z"], s["matched"], s["differences"]) == (
        BOX, "closed", 1, True, [])
    methods = {m["method"]: m["net"] for m in s["methods"]}
    assert methods == {"cash": 11900, "wechat": 55600, "alipay": 400000, "card": 50000,
                       "member": 75400, "credit": 300000}
    assert methods == s["signed_period"]["methods"]
    assert s["totals"]["net"] == s["signed_period"]["net"] == 842900
    assert s["cash"] == {"expected": 11900, "counted": 15500, "over": 3600}


async def test_the_open_day_every_day_and_one_box(client: Client) -> None:
    [s] = (await get(client, "/v1/settlements?day=2026-11-30"))["settlements"]
    assert s["status"] == "open" and s["matched"] is None and s["totals"]["net"] == 2500
    every = (await get(client, "/v1/settlements"))["settlements"]
    assert [(x["day"], x["status"]) for x in every] == [("2026-11-30", "open"),
                                                         ("2026-11-29", "closed")]
    assert (await get(client, f"/v1/settlements?box={BOX}"))["settlements"] == every
    assert (await get(client, f"/v1/settlements?box={OTHER}"))["settlements"] == []
    one = await get(client, f"/v1/boxes/{BOX}/settlements?day=2026-11-29")
    assert [x["z"] for x in one["settlements"]] == [1]
    assert (await get(client, f"/v1/boxes/{OTHER}/settlements"))["settlements"] == []


@pytest.mark.parametrize(("path", "status", "field"), [
    ("/v1/settlements?day=2026-13-01", 400, "day"),
    ("/v1/settlements?day=2026-2-1", 400, "day"),
    ("/v1/settlements?day=明天", 400, "day"),
    ("/v1/settlements?box=a/b", 400, "box"),
    ("/v1/boxes/NOPE-1/settlements", 404, "box"),
    ("/v1/boxes/CQ-JB-001-B1/settlements?day=x", 400, "day"),
    ("/v1/print-jobs?limit=many", 400, "limit"),
])
async def test_bad_queries_name_the_field(client: Client, path: str, status: int,
                                          field: str) -> None:
    assert (await get(client, path, status))["error"]["field"] == field


async def test_boxes_show_liveness_telemetry_and_what_hq_verified(client: Client) -> None:
    other, b = (await get(client, "/v1/boxes"))["boxes"]  # by id
    # The second configured box never connected: listed all the same (从未上线).
    assert (other["id"], other["presence"], other["online"]) == (OTHER, "never", False)
    assert b["online"] and b["name"] == "重庆江北建材旗舰店"
    assert b["devices"][0]["state"] == "paper_out" and b["queues"] == {"front": 2}
    assert b["sync_lag"] == 2 and b["disk_free_bytes"] == 85_478_359_040
    assert b["hq_journal"]["size"] == 20


async def test_recent_jobs_carry_their_history(client: Client, store: HqStore) -> None:
    for i in (1, 2):
        r = await client.post("/v1/print-jobs", json={"box": BOX, "job": {
            "id": f"ord-{i}", "printer": "front",
            "document": {"blocks": [{"type": "text", "text": "拣货单 永盛家装"}]}}})
        assert r.status == 201
    disp = Dispatcher(store, _published, lambda: NOW, HQ, 86_400, 300)
    disp.apply_events(EventsBatch(BOX, "s" * 22, (
        IntakeEvent(1, "ord-1", "accepted", NOW), JobEvent(2, "ord-1", "front", "queued", 1, NOW),
        JobEvent(3, "ord-1", "front", "failed", 2, NOW, "paper_out"))))
    jobs = (await get(client, "/v1/print-jobs"))["jobs"]
    assert {j["id"] for j in jobs} == {"ord-1", "ord-2"}
    one = next(j for j in jobs if j["id"] == "ord-1")
    assert one["state"] == "failed"
    assert [h["state"] for h in one["history"]] == ["submitted", "dispatched", "accepted",
                                                    "queued", "failed"]
    assert len((await get(client, "/v1/print-jobs?limit=1"))["jobs"]) == 1
    assert (await get(client, f"/v1/print-jobs?box={OTHER}"))["jobs"] == []
