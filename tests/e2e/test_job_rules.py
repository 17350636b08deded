"""One set of job rules: HQ's API refuses exactly what the box refuses, with the same field and
reason — HQ's real app on a real socket, the box's real local API and its real cloud intake
(queue and event outbox in real SQLite files)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.uplink.intake import Intake
from hq.store.sqlite import SqliteStore
from sync.journal.record import public_bytes
from sync.protocol.commands import CommandGuard, public_key_from_b64
from sync.protocol.messages import PrintDispatch
from sync.protocol.outbox import DurableOutbox
from tests.agent.conftest import Client, agent_client, box_config, free_port
from tests.hq.journals import BOX, HQ_KEY
from tests.hq.web.test_api import Broker, make_client

NOW = 1_795_916_000_000
GOOD: dict[str, Any] = {"id": "ord-20261129-0042", "printer": "front", "copies": 2,
                        "document": {"blocks": [{"type": "text", "text": "送货单 永盛家装"}]}}
LONG_PRINTER = "打" * 65

# (the job, the field the box names): every envelope rule, each broken once.
BAD: list[tuple[dict[str, Any], str]] = [
    ({**GOOD, "copies": 99}, "copies"),
    ({**GOOD, "copies": 0}, "copies"),
    ({**GOOD, "copies": "2"}, "copies"),
    ({**GOOD, "copies": True}, "copies"),
    ({**GOOD, "id": "送货单 0042"}, "id"),
    ({**GOOD, "id": "x" * 129}, "id"),
    ({**GOOD, "printer": LONG_PRINTER}, "printer"),
    ({**GOOD, "expires_at": "明天"}, "expires_at"),
    ({**GOOD, "expires_at": "2026-11-29T10:00:00"}, "expires_at"),
    ({**GOOD, "priority": 1}, "priority"),
    ({**GOOD, "raw": "AA=="}, "template"),
    ({"id": "t-1", "printer": "front"}, "template"),
    ({"id": "t-2", "printer": "front", "template": "价签", "data": {}}, "template"),
    ({"id": "t-3", "printer": "front", "template": ["receipt"], "data": {}}, "template"),
    ({"id": "t-4", "printer": "front", "template": "receipt", "data": ["重庆江北"]}, "data"),
    ({"id": "t-5", "printer": "front", "template": "price_label"}, "data"),
    ({**GOOD, "data": {"store": "重庆江北建材旗舰店"}}, "data"),
    ({"id": "t-6", "printer": "front", "document": "送货单"}, "document"),
    ({"id": "t-7", "printer": "front", "raw": "不是 base64"}, "raw"),
    ({"id": "t-8", "printer": "front", "raw": ""}, "raw"),
]


@pytest.fixture
async def hq(tmp_path: Path) -> AsyncIterator[tuple[Client, Broker]]:
    broker = Broker()
    client = await make_client(SqliteStore(tmp_path / "hq.db"), broker)
    yield client, broker
    await client.close()


async def test_hq_and_the_box_refuse_the_same_jobs_alike(
        tmp_path: Path, hq: tuple[Client, Broker]) -> None:
    hq_client, broker = hq
    # No printer listens: nothing prints, only the answers matter.
    cfg = box_config(tmp_path / "box", {"front": free_port()})
    guard = CommandGuard(BOX, public_key_from_b64(base64.b64encode(public_bytes(HQ_KEY))
                                                  .decode()))
    outbox = DurableOutbox(tmp_path / "uplink.db")
    async with agent_client(cfg) as (ctx, box_client):
        intake = Intake(ctx, outbox, guard)
        for job, field in BAD:
            r = await hq_client.post("/v1/print-jobs", json={"box": BOX, "job": job})
            assert r.status == 400, (job, await r.text())
            hq_error = (await r.json())["error"]
            r = await box_client.post("/v1/print-jobs", json=job)
            assert r.status == 400, (job, await r.text())
            box_error = (await r.json())["error"]
            assert box_error["field"] == field, (job, box_error)
            assert hq_error == {"field": f"job.{field}", "reason": box_error["reason"]}
            # The box's cloud intake answers HQ's very words (the job sits at `job` in both).
            dispatch = PrintDispatch(BOX, job, NOW)
            assert await intake.print_job(dispatch.to_json()) == "refused"
            event = outbox.events(outbox.head(), outbox.head())[0]
            assert event["result"] == "refused"
            assert event["error"] == f"job.{field}: {box_error['reason']}", (job, event)
        assert broker.sent == []
        assert (await (await hq_client.get("/v1/print-jobs")).json())["jobs"] == []
        # The rules are not simply refusing everything.
        r = await hq_client.post("/v1/print-jobs", json={"box": BOX, "job": GOOD})
        assert r.status == 201 and len(broker.sent) == 1
        assert await intake.print_job(broker.sent[0][1]) == "accepted"
        assert (await box_client.post("/v1/print-jobs", json={**GOOD, "id": "local-1"})
                ).status == 202
    outbox.close()
