"""HQ's HTTP API on a real store, with the MQTT side replaced by a recording publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.store import HqStore
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from sync.protocol.commands import SignedCommand
from sync.protocol.messages import (
    Birth,
    EventsBatch,
    IntakeEvent,
    JobEvent,
    JournalPosition,
    PrintDispatch,
    Telemetry,
)
from tests.hq.journals import BOX, HQ_KEY

Client = TestClient[web.Request, web.Application]
NOW = 1_795_916_000_000
JOB = {"id": "ord-1", "printer": "front",
       "document": {"blocks": [{"type": "text", "text": "送货单 永盛家装"}]}}


class Broker:
    """Records what HQ published; `up` False makes every publish fail (no broker)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, int]] = []
        self.up = True

    async def publish(self, topic: str, payload: bytes, expiry_s: int) -> bool:
        if self.up:
            self.sent.append((topic, payload, expiry_s))
        return self.up


@pytest.fixture
def broker() -> Broker:
    return Broker()


@pytest.fixture
def store(tmp_path: Path) -> HqStore:
    return SqliteStore(tmp_path / "hq.db")


async def make_client(store: HqStore, broker: Broker, token: str = "") -> Client:
    clock = lambda: NOW  # noqa: E731
    disp = Dispatcher(store, broker.publish, clock, HQ_KEY, 86_400, 300)
    app = make_app(ApiContext(store, Registry(store, clock), disp, token))
    client: Client = TestClient(TestServer(app), headers={"Content-Type": "application/json"})
    await client.start_server()
    return client


@pytest.fixture
async def client(store: HqStore, broker: Broker) -> AsyncIterator[Client]:
    c = await make_client(store, broker)
    yield c
    await c.close()


async def test_a_job_is_stored_dispatched_once_and_conflicts_are_refused(
        client: Client, broker: Broker) -> None:
    r = await client.post("/v1/print-jobs", json={"box": BOX, "job": JOB})
    assert r.status == 201 and (await r.json())["state"] == "dispatched"
    topic, payload, expiry = broker.sent[0]
    assert topic == f"storelink/v1/box/{BOX}/down/print" and expiry == 86_400
    assert PrintDispatch.from_json(payload).job == JOB
    r = await client.post("/v1/print-jobs", json={"box": BOX, "printer": "front", "job": JOB})
    assert r.status == 200 and len(broker.sent) == 1
    r = await client.post("/v1/print-jobs", json={"box": BOX, "job": {**JOB, "copies": 3}})
    assert r.status == 409


@pytest.mark.parametrize(("body", "field"), [
    ({"box": "a/b", "job": JOB}, "box"),
    ({"box": BOX}, "job"),
    ({"box": BOX, "job": {**JOB, "id": "有 空格"}}, "job.id"),
    ({"box": BOX, "printer": "back", "job": JOB}, "job.printer"),
    ({"box": BOX, "job": {**JOB, "expires_at": "tomorrow"}}, "job.expires_at"),
    ({"box": BOX, "job": {**JOB, "expires_at": "2026-11-29T10:00:00"}}, "job.expires_at"),
    ({"box": BOX, "job": JOB, "priority": 1}, "priority"),
])
async def test_bad_submissions_name_the_field(client: Client, broker: Broker,
                                              body: dict[str, object], field: str) -> None:
    r = await client.post("/v1/print-jobs", json=body)
    assert r.status == 400 and (await r.json())["error"]["field"] == field
    assert broker.sent == []


async def test_not_json_and_unknown_things(client: Client) -> None:
    r = await client.post("/v1/print-jobs", data=b"{")
    assert r.status == 400 and (await r.json())["error"]["field"] == "body"
    assert (await client.get("/v1/print-jobs/nope")).status == 404
    assert (await client.get("/v1/boxes/nope")).status == 404
    assert (await client.get("/v1/commands/nope")).status == 404


async def test_jobs_accepted_without_a_broker_go_out_later(
        client: Client, broker: Broker, store: HqStore) -> None:
    broker.up = False
    r = await client.post("/v1/print-jobs", json={"box": BOX, "job": JOB})
    assert r.status == 201 and (await r.json())["state"] == "submitted"
    broker.up = True
    disp = Dispatcher(store, broker.publish, lambda: NOW, HQ_KEY, 86_400, 300)
    assert await disp.redispatch() == 1 and await disp.redispatch() == 0
    assert await disp.redeliver(BOX) == 1  # unanswered: sent again when the box is born


async def test_history_follows_the_box_events(client: Client, store: HqStore,
                                              broker: Broker) -> None:
    await client.post("/v1/print-jobs", json={"box": BOX, "job": JOB})
    disp = Dispatcher(store, broker.publish, lambda: NOW, HQ_KEY, 86_400, 300)
    evs = EventsBatch(BOX, "s" * 22, (IntakeEvent(1, "ord-1", "accepted", NOW),
                                      JobEvent(2, "ord-1", "front", "queued", 1, NOW),
                                      JobEvent(3, "ord-1", "front", "failed", 2, NOW,
                                               "paper_out")))
    assert disp.apply_events(evs).upto == 3
    view = await (await client.get("/v1/print-jobs/ord-1")).json()
    assert view["state"] == "failed" and view["history"][-1]["reason"] == "paper_out"
    late = EventsBatch(BOX, "s" * 22, (JobEvent(5, "ord-1", "front", "printed", 3, NOW),))
    assert disp.apply_events(late).upto == 3  # eseq 4 missing: nothing applied
    assert await disp.redeliver(BOX) == 0  # answered jobs are not sent again


async def test_boxes_from_births_and_telemetry(client: Client, store: HqStore) -> None:
    reg = Registry(store, lambda: NOW)
    reg.birth(Birth(BOX, 7, NOW, "0.1.0", "CQ-JB-001", (), JournalPosition(10, 8), 30, "江北店"))
    assert reg.telemetry(Telemetry(BOX, 7, 1, NOW, 5, (), {"front": 2},
                                   JournalPosition(12, 8))) == 0
    assert reg.telemetry(Telemetry(BOX, 7, 4, NOW, 5, (), {}, JournalPosition(12, 12))) == 2
    boxes = (await (await client.get("/v1/boxes")).json())["boxes"]
    assert boxes[0]["name"] == "江北店" and boxes[0]["online"]
    assert boxes[0]["telemetry_gaps"] == 2 and boxes[0]["sync_lag"] == 0
    one = await (await client.get(f"/v1/boxes/{BOX}")).json()
    assert one["hq_journal"] is None


async def test_commands_are_signed_and_remembered(client: Client, broker: Broker) -> None:
    r = await client.post(f"/v1/boxes/{BOX}/commands",
                          json={"name": "reupload", "args": {"from_seq": 100}})
    assert r.status == 202
    nonce = (await r.json())["nonce"]
    signed = SignedCommand.from_json(broker.sent[-1][1])
    assert signed.verify(HQ_KEY.public_key()) and signed.command.nonce == nonce
    assert broker.sent[-1][2] == 300
    cmd = await (await client.get(f"/v1/commands/{nonce}")).json()
    assert cmd["published_ms"] == NOW and cmd["result"] is None
    r = await client.post(f"/v1/boxes/{BOX}/commands",
                          json={"name": "open_drawer", "args": {"printer": "front", "pin": 9}})
    assert r.status == 400 and (await r.json())["error"]["field"] == "args.pin"


async def test_a_token_guards_everything(store: HqStore, broker: Broker) -> None:
    c = await make_client(store, broker, token="s" * 20)
    try:
        assert (await c.get("/v1/boxes")).status == 401
        ok = await c.get("/v1/boxes", headers={"Authorization": "Bearer " + "s" * 20})
        assert ok.status == 200
    finally:
        await c.close()
