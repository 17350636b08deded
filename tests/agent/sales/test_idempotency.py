"""Idempotency keys: one record per key, 409 for another body, concurrent duplicates, and the
intent left by a crash between the record's commit and the key's."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.sales.idempotency import Claim, IdempotencyMap, matches, request_hash, resolve
from agent.sales.requests import sale_body
from agent.sales.service import Prepared
from agent.sales.service import wall_ms as now_ms
from drivers.label.flowcard import encode_flow_card
from sync.journal.record import Entry
from tests.agent.conftest import agent_client, eventually
from tests.agent.sales.conftest import PIN, post, records, sale, sales_config


async def test_the_same_key_twice_makes_one_record(tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path)) as (_, client):
        status, first = await post(client, "/v1/sales", sale(), key="pos-T1-0041")
        assert status == 201 and "replayed" not in first
        status, again = await post(client, "/v1/sales", sale(), key="pos-T1-0041")
        assert status == 200 and again["replayed"] is True
        assert (again["seq"], again["hash"]) == (first["seq"], first["hash"])
        assert again["receipt_code"] == first["receipt_code"]
        # Another body under the same key is refused; so is the key on another endpoint.
        status, out = await post(client, "/v1/sales", sale("XS-20261129-0042"),
                                 key="pos-T1-0041")
        assert (status, out["error"]["field"]) == (409, "Idempotency-Key")
        handover = {"flow_card": encode_flow_card("SC-20261129-001", 3, 13, 80), "step": 20,
                    "worker": "W001", "good": 80}
        status, out = await post(client, "/v1/handovers", handover, key="pos-T1-0041")
        assert (status, out["error"]["field"]) == (409, "Idempotency-Key")
        status, out = await post(client, "/v1/sales", sale(), key="带 空格")
        assert (status, out["error"]["field"]) == (400, "Idempotency-Key")
    assert len(records(tmp_path / "journal.db", "sale")) == 1


async def test_concurrent_duplicates_make_one_record(tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path)) as (_, client):
        answers = await asyncio.gather(*(post(client, "/v1/sales", sale(), key="dup-0042")
                                         for _ in range(12)))
        assert sorted(st for st, _ in answers) == [200] * 11 + [201]
        assert len({out["seq"] for _, out in answers}) == 1
        # A refund retried with its approval: one approval and one refund.
        seq = answers[0][1]["seq"]
        refund = {"sale_seq": seq, "reason": "整单退货", "clerk": "C001",
                  "lines": sale()["lines"], "approval": PIN}
        outs = await asyncio.gather(*(post(client, "/v1/refunds", refund, key="rf-0042")
                                      for _ in range(4)))
        assert sorted(st for st, _ in outs) == [200, 200, 200, 201]
    db = tmp_path / "journal.db"
    assert len(records(db, "sale")) == 1
    assert len(records(db, "refund")) == len(records(db, "approval")) == 1


async def test_a_crash_between_record_and_key_is_settled_from_the_journal(
        tmp_path: Path) -> None:
    cfg = sales_config(tmp_path)
    body = sale()
    path_hash = request_hash("POST", "/v1/sales", body)
    async with agent_client(cfg) as (ctx, _):
        assert ctx.sales is not None and ctx.journal is not None
        svc = ctx.sales
        # As if the daemon died after the sale's COMMIT but before the key's update ...
        size = ctx.journal.head.size
        committed = {k: v for k, v in sale().items() if k != "clerk"} | {"cashier": "C001",
                                                                         "customer": "K002"}
        del committed["member"]
        for line in committed["lines"]:
            line["amount"] = line["qty"] * line["unit_price"]
        await asyncio.to_thread(svc.keys.begin, "crash-1", path_hash, "sale", committed, size,
                                now_ms())
        appended = await ctx.journal.append("sale", committed)
        # ... and before a second sale was appended at all.
        other = dict(committed, order="XS-20261129-0099")
        await asyncio.to_thread(svc.keys.begin, "crash-2", request_hash(
            "POST", "/v1/sales", sale("XS-20261129-0099")), "sale", other,
            ctx.journal.head.size, now_ms())
    async with agent_client(cfg) as (ctx, client):
        assert ctx.sales is not None
        assert await asyncio.to_thread(ctx.sales.keys.pending) == []
        status, out = await post(client, "/v1/sales", body, key="crash-1")
        assert (status, out["seq"], out.get("replayed")) == (200, appended.seq, True)
        status, out = await post(client, "/v1/sales", sale("XS-20261129-0099"), key="crash-2")
        assert status == 201
    orders = [r["body"]["order"] for r in records(tmp_path / "journal.db", "sale")]
    assert orders == ["XS-20261129-0041", "XS-20261129-0099"]


def test_resolution_takes_the_first_unclaimed_matching_record(tmp_path: Path) -> None:
    body = {"sale_seq": 2, "order": "XS-20261129-0041", "total": 3600}
    claim = Claim("k", "h", "pending", "refund", body, 5, None)
    recs = [{"seq": 4, "type": "refund", "body": {**body, "approval_seq": 3}},
            {"seq": 6, "type": "refund", "body": {**body, "approval_seq": 5}},
            {"seq": 7, "type": "void", "body": body},
            {"seq": 8, "type": "refund", "body": {**body, "reason": "x"}}]
    assert matches(claim, recs[1]) and not matches(claim, recs[2])
    assert resolve(claim, recs, set()) == 6
    assert resolve(claim, recs, {6}) == 8
    assert resolve(claim, recs[:3], {6}) is None
    keys = IdempotencyMap(tmp_path / "k.db")
    try:
        keys.begin("k", "h", "refund", {**body, "approval_seq": 9}, 5, 100)
        stored = keys.get("k")
        assert stored is not None and stored.body == body and stored.state == "pending"
        keys.finish("k", 6)
        assert keys.taken(0) == {6} and keys.pending() == []
        assert keys.prune(101) == 1 and keys.get("k") is None
    finally:
        keys.close()


def test_the_request_hash_ignores_the_approval_but_not_the_rest() -> None:
    a = request_hash("POST", "/v1/refunds", {"sale_seq": 2, "approval": {"pin": "1"}})
    assert a == request_hash("POST", "/v1/refunds", {"sale_seq": 2, "approval": {"pin": "2"}})
    assert a != request_hash("POST", "/v1/refunds", {"sale_seq": 3})
    assert a != request_hash("POST", "/v1/voids", {"sale_seq": 2})


async def test_a_cancelled_request_holds_its_key_until_its_record_is_written(
        tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path)) as (ctx, _):
        svc = ctx.sales
        assert svc is not None
        gate = asyncio.Event()
        body = sale_body(sale(), "XS-1", svc.journal.head.size)
        prepared: list[int] = []

        async def commit() -> Entry:
            await gate.wait()
            return await svc.append("sale", body)

        async def prepare() -> Prepared:
            prepared.append(1)
            return Prepared("sale", body, commit)

        first = asyncio.create_task(svc.run("k-cancel", "h1", (), prepare))
        await eventually(lambda: len(prepared) == 1, what="first prepared")
        first.cancel()
        second = asyncio.create_task(svc.run("k-cancel", "h1", (), prepare))
        await eventually(lambda: svc.locks.users("key:k-cancel") == 2 or len(prepared) == 2,
                         what="second waiting")
        gate.set()
        entry, created = await second
        assert not created and len(prepared) == 1
    [only] = records(tmp_path / "journal.db", "sale")
    assert only["seq"] == entry.record()["seq"]

