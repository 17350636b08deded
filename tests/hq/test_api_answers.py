"""HQ's read API answers exactly as docs/protocol.md §11 says: journal paging and `limit`,
alarms (a command alarm's `seq` is the event's `eseq`), commands and their results, and query
parameters refused by name — a real HQ app on a real socket over a real SQLite store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from sync.journal.vectors import BOX1, HQ, HQ_NAME, build
from sync.protocol.messages import CommandEvent, EventsBatch, JournalBatch
from tests.hq.journals import ingest_of, obj

Client = TestClient[web.Request, web.Application]
BOX = "CQ-JB-001-B1"
OTHER = "CD-WH-003-B1"
NOW = 1_796_000_500_000
STREAM = "s" * 22
CHAIN, _ = build()


async def _published(topic: str, payload: bytes, expiry_s: int) -> bool:
    return True


@pytest.fixture
async def hq(tmp_path: Path) -> AsyncIterator[tuple[Client, Dispatcher]]:
    """HQ holding the 20-record vector journal of BOX; OTHER is configured but silent."""
    store = SqliteStore(tmp_path / "hq.db")
    ingest = ingest_of(store, BOX1, NOW, hq=HQ, cosigner=HQ_NAME)
    batch = JournalBatch(BOX, CHAIN.head.log, 0, tuple(obj(e) for e in CHAIN.entries))
    assert ingest.ingest(batch).ack.status == "ok"
    disp = Dispatcher(store, _published, lambda: NOW, HQ, 86_400, 300)
    client: Client = TestClient(TestServer(make_app(ApiContext(
        store, Registry(store, lambda: NOW), disp, "", (BOX, OTHER)))))
    await client.start_server()
    yield client, disp
    await client.close()


async def test_the_journal_pages_by_from_and_limit(hq: tuple[Client, Dispatcher]) -> None:
    client, _ = hq
    whole = [e.export_line() for e in CHAIN.entries]
    got: list[str] = []
    while True:
        r = await client.get(f"/v1/boxes/{BOX}/journal?from={len(got)}&limit=7")
        assert r.status == 200 and r.content_type == "application/jsonl"
        page = (await r.text()).splitlines(keepends=True)
        got += page
        if len(page) < 7:  # a short page is the end
            break
    assert got == whole and len(got) == 20
    assert [json.loads(line)["record"]["seq"] for line in got] == list(range(20))
    r = await client.get(f"/v1/boxes/{BOX}/journal?from=20")
    assert r.status == 200 and await r.text() == ""
    r = await client.get(f"/v1/boxes/{OTHER}/journal")  # configured, nothing held yet
    assert r.status == 200 and await r.text() == ""


@pytest.mark.parametrize(("path", "status", "field"), [
    (f"/v1/boxes/{BOX}/journal?limit=all", 400, "limit"),
    (f"/v1/boxes/{BOX}/journal?limit=0", 400, "limit"),
    (f"/v1/boxes/{BOX}/journal?limit=100001", 400, "limit"),
    (f"/v1/boxes/{BOX}/journal?from=-1", 400, "from"),
    (f"/v1/boxes/{BOX}/journal?from=第一条", 400, "from"),
    ("/v1/boxes/NOPE-1/journal", 404, "box"),
    ("/v1/alarms?box=a/b", 400, "box"),
    ("/v1/alarms?limit=0", 400, "limit"),
    ("/v1/print-jobs?limit=-5", 400, "limit"),
    ("/v1/print-jobs?limit=501", 400, "limit"),
    ("/v1/print-jobs?box=CQ-JB-001-B1%0A", 400, "box"),
])
async def test_bad_queries_name_the_field(hq: tuple[Client, Dispatcher], path: str, status: int,
                                          field: str) -> None:
    client, _ = hq
    r = await client.get(path)
    assert r.status == status, await r.text()
    assert (await r.json())["error"]["field"] == field


async def test_commands_and_command_alarms_answer_as_documented(
        hq: tuple[Client, Dispatcher]) -> None:
    client, disp = hq
    r = await client.post(f"/v1/boxes/{BOX}/commands",
                          json={"name": "open_drawer", "args": {"printer": "前台"}})
    assert r.status == 202
    sent = await r.json()
    assert set(sent) == {"nonce", "box", "name", "args", "issued_ms", "expires_ms",
                         "published_ms", "result", "error", "result_ms"}
    assert (sent["result"], sent["published_ms"], sent["args"]) == (
        None, NOW, {"printer": "前台", "pin": 2})
    nonce = sent["nonce"]
    # The box refuses HQ's own command under its nonce, and another (unknown) one at eseq 2.
    disp.apply_events(EventsBatch(BOX, STREAM, (
        CommandEvent(1, nonce, "open_drawer", "refused", NOW + 5,
                     "malformed: cmd.args.颜色: unknown field"),
        CommandEvent(2, "forged-nonce-000001", "rebirth", "refused", NOW + 6, "bad signature"))))
    got = await (await client.get(f"/v1/commands/{nonce}")).json()
    assert (got["result"], got["error"], got["result_ms"]) == (
        "refused", "malformed: cmd.args.颜色: unknown field", NOW + 5)
    alarms = (await (await client.get("/v1/alarms")).json())["alarms"]
    assert alarms == [{"id": alarms[0]["id"], "box": BOX, "kind": "command_refused", "seq": 2,
                       "reason": "bad signature", "at_ms": NOW,
                       "evidence": {"nonce": "forged-nonce-000001", "name": "rebirth",
                                    "stream": STREAM}}]
    assert (await (await client.get(f"/v1/alarms?box={OTHER}")).json())["alarms"] == []
