"""Sales and refunds through the real API: committed before the answer, amounts that must add
up, never more refunded than sold, journal reads, and an audit record for every POST."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from tests.agent.conftest import agent_client, raw_job
from tests.agent.sales.conftest import audits, post, records, sale, sales_config


async def test_a_sale_is_answered_after_commit_and_is_in_the_journal(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (ctx, client):
        status, out = await post(client, "/v1/sales", sale())
        assert status == 201, out
        # Read by another connection: the row is there with the answered hash.
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT hash FROM journal WHERE seq = ?", (out["seq"],)).fetchone()
        assert row is not None and bytes(row[0]).hex() == out["hash"]
        assert (out["type"], out["log"]) == ("sale", ctx.journal.head.log if ctx.journal
                                            else None)
        assert out["receipt_code"].startswith(f"SLJ1:{out['log'].upper()}:{out['seq']}:")

        r = await client.get(f"/v1/journal?from={out['seq']}&to={out['seq']}")
        page = await r.json()
        assert r.status == 200 and page["next"] is None
        [entry] = page["entries"]
        assert entry["hash"] == out["hash"]
        body = entry["record"]["body"]
        assert body["cashier"] == "C001" and body["customer"] == "K002"
        assert [x["amount"] for x in body["lines"]] == [34000, 10800, 14400]
        assert entry["record"]["totals"]["methods"] == {"wechat": 59200}

        head = await (await client.get("/v1/journal/head")).json()
        assert head["size"] == ctx.journal.head.size if ctx.journal else False
        assert head["totals"]["net"] == 59200 and head["last_close"] is None

        everything = await (await client.get("/v1/journal?from=0&to=100000")).json()
        assert [e["record"]["seq"] for e in everything["entries"]] == list(range(head["size"]))
        assert everything["entries"][0]["record"]["type"] == "genesis"
        assert everything["entries"][0]["record"]["body"]["name"] == "重庆江北建材旗舰店"
        r = await client.get("/v1/journal?from=5&to=2")
        assert r.status == 400 and (await r.json())["error"]["field"] == "to"
    [audit] = audits(db, "sale.create")
    # The clerk of the body is not authenticated: recorded as claimed, not as the actor.
    assert audit["actor"] == "anonymous" and audit["ref_seq"] == out["seq"]
    assert audit["detail"].startswith("POST /v1/sales → 201; sale ")
    assert "claimed clerk C001" in audit["detail"]
    assert "from 127.0.0.1" in audit["detail"]


async def test_a_sale_without_line_amounts_or_total_gets_them_computed(tmp_path: Path) -> None:
    body = sale()
    del body["total"]
    for line in body["lines"]:
        line.pop("amount", None)
    body["lines"][0]["discount"] = 400
    body["payments"] = [{"method": "cash", "amount": 20000}, {"method": "alipay",
                                                              "amount": 38800}]
    async with agent_client(sales_config(tmp_path)) as (_, client):
        status, out = await post(client, "/v1/sales", body)
        assert status == 201, out
    [rec] = records(tmp_path / "journal.db", "sale")
    assert rec["body"]["total"] == 58800 and rec["body"]["lines"][0]["amount"] == 33600
    assert rec["totals"]["methods"] == {"alipay": 38800, "cash": 20000}


async def test_amounts_that_do_not_add_up_are_400_naming_the_field(tmp_path: Path) -> None:
    def with_line(i: int, **change: Any) -> dict[str, Any]:
        b = sale()
        b["lines"][i] = {**b["lines"][i], **change}
        return b

    cases: list[tuple[object, str]] = [
        (with_line(1, amount=10000), "lines[1].amount"),
        ({**sale(), "total": 60000}, "total"),
        (sale(payments=[{"method": "wechat", "amount": 50000}]), "payments"),
        (sale(payments=[{"method": "bitcoin", "amount": 59200}]), "payments[0].method"),
        (with_line(0, unit_price=8.5), "lines[0].unit_price"),
        (with_line(2, discount=999999), "lines[2].discount"),
        (with_line(0, colour="红"), "lines[0].colour"),
        ({**sale(), "lines": []}, "lines"),
        ({**sale(), "clerk": "李 晓燕"}, "clerk"),
        ({**sale(), "member": ""}, "member"),
        ({**sale(), "vip": True}, "vip"),
        ({**sale(), "open_drawer": "yes"}, "open_drawer"),
        ([1, 2], "body"),
    ]
    async with agent_client(sales_config(tmp_path)) as (_, client):
        for body, field in cases:
            status, out = await post(client, "/v1/sales", body)
            assert (status, out["error"]["field"]) == (400, field), (field, out)
        r = await client.post("/v1/sales", data=b"{oops", headers={
            "Content-Type": "application/json"})
        assert r.status == 400 and (await r.json())["error"]["field"] == "body"
    db = tmp_path / "journal.db"
    assert records(db, "sale") == []
    assert [a["detail"].split(";")[0] for a in audits(db)] == ["POST /v1/sales → 400"] * 14


async def test_refunds_never_exceed_what_was_sold(tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path)) as (_, client):
        _, s = await post(client, "/v1/sales", sale())
        hinge30 = {"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 30, "unit_price": 850}
        refund = {"sale_seq": s["seq"], "clerk": "C001", "reason": "规格不符",
                  "lines": [hinge30]}
        status, first = await post(client, "/v1/refunds", refund)
        assert status == 201, first
        # 30 of 40 hinges are back: 20 more is more than was sold.
        status, out = await post(client, "/v1/refunds", {**refund, "lines": [
            {**hinge30, "qty": 20}]})
        assert (status, out["error"]["field"]) == (400, "lines[0].qty")
        assert "only 10" in out["error"]["reason"]
        # Within the quantity, but more money than is left of the sale.
        status, out = await post(client, "/v1/refunds", {**refund, "lines": [
            {**hinge30, "qty": 10, "unit_price": 50000}]})
        assert (status, out["error"]["field"]) == (400, "total")
        cases: list[tuple[dict[str, Any], str]] = [
            ({**refund, "lines": [{**hinge30, "sku": "JC-9999"}]}, "lines[0].sku"),
            ({**refund, "sale_seq": first["seq"]}, "sale_seq"),
            ({**refund, "sale_seq": 10**6}, "sale_seq"),
            ({**refund, "sale_seq": 0}, "sale_seq"),
            ({**refund, "reason": ""}, "reason"),
            ({**refund, "payments": [{"method": "cash", "amount": 1}]}, "payments"),
        ]
        for body, field in cases:
            status, out = await post(client, "/v1/refunds", body)
            assert (status, out["error"]["field"]) == (400, field), (field, out)
        # Two concurrent refunds that fit alone but not together: exactly one is accepted.
        both = await asyncio.gather(*(post(client, "/v1/refunds", {**refund, "lines": [
            {**hinge30, "qty": 8}]}) for _ in range(2)))
        assert sorted(st for st, _ in both) == [201, 400]
    refunds = records(tmp_path / "journal.db", "refund")
    assert [r["body"]["lines"][0]["qty"] for r in refunds] == [30, 8]
    assert all(r["body"]["payments"][0]["method"] == "wechat" for r in refunds)
    assert refunds[-1]["totals"]["net"] == 59200 - 38 * 850


async def test_a_void_cancels_a_whole_sale_of_the_open_day_once(tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path)) as (_, client):
        small = {**sale("XS-20261129-0044"), "lines": [
            {"sku": "JC-1002", "name": "静音抽屉滑轨 三节", "qty": 1, "unit_price": 3600}],
            "total": 3600, "payments": [{"method": "cash", "amount": 3600}]}
        _, s = await post(client, "/v1/sales", small)
        status, v = await post(client, "/v1/voids", {"sale_seq": s["seq"], "reason": "收银员录错",
                                                     "clerk": "C001"})
        assert status == 201, v
        status, out = await post(client, "/v1/voids", {"sale_seq": s["seq"], "reason": "再来"})
        assert (status, out["error"]["field"]) == (400, "sale_seq")
        status, out = await post(client, "/v1/refunds", {"sale_seq": s["seq"], "reason": "x",
                                                         "lines": small["lines"]})
        assert (status, out["error"]["field"]) == (400, "sale_seq")
    [void] = records(tmp_path / "journal.db", "void")
    assert void["body"]["payments"] == [{"amount": 3600, "method": "cash"}]
    assert void["totals"]["net"] == 0 and "approval_seq" not in void["body"]


async def test_every_post_is_audited_and_reads_are_not(tmp_path: Path) -> None:
    async with agent_client(sales_config(tmp_path, {"front": 1})) as (_, client):
        for _ in range(3):
            assert (await client.get("/v1/journal/head")).status == 200
            assert (await client.get("/v1/printers")).status == 200
        r = await client.post("/v1/print-jobs", json=raw_job("audit-1", "front"),
                              headers={"X-Storelink-Clerk": "C002"})
        assert r.status == 202
        r = await client.post("/v1/print-jobs/nope/cancel")
        assert r.status == 404
    trail = audits(tmp_path / "journal.db")
    # A claimed clerk header is no identity; a 404 changed nothing and is not recorded.
    assert [(a["event"], a["actor"]) for a in trail] == [("api.post", "anonymous")]
    assert trail[0]["detail"].startswith("POST /v1/print-jobs → 202")
    assert "claimed clerk C002" in trail[0]["detail"]


async def test_with_the_journal_disabled_there_is_no_journal_and_no_gate(tmp_path: Path) -> None:
    cfg = sales_config(tmp_path, enabled=False, approval_refund_over_fen=None)
    async with agent_client(cfg) as (ctx, client):
        assert ctx.journal is None and ctx.sales is None
        status, out = await post(client, "/v1/sales", sale())
        assert (status, out["error"]["field"]) == (503, "journal")
        r = await client.get("/v1/journal/head")
        assert r.status == 503
    assert not (tmp_path / "journal.db").exists()
