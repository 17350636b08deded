"""The local API against simulated printers on real TCP ports, through a real aiohttp server."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.printing.jobs import parse_job, render_job
from agent.printing.queue.store import Store
from drivers.sim.printer import SimEscposPrinter
from tests.agent.conftest import (
    Client,
    SimFactory,
    agent_client,
    box_config,
    document_job,
    eventually,
    raw_job,
    receipt_job,
)

MARK = re.compile(rb"#([A-Za-z0-9._:\-]+)#")


def printed_ids(model: SimEscposPrinter) -> list[str]:
    """Job ids in the order their paper came out of the simulated printer."""
    return [m.decode() for data in model.jobs() for m in MARK.findall(data)]


async def get_json(client: Client, path: str) -> Any:
    r = await client.get(path)
    assert r.status == 200, await r.text()
    return await r.json()


async def job(client: Client, job_id: str) -> dict[str, Any]:
    out: dict[str, Any] = await get_json(client, f"/v1/print-jobs/{job_id}")
    return out


async def printer(client: Client, pid: str) -> dict[str, Any]:
    data = await get_json(client, "/v1/printers")
    return next(p for p in data["printers"] if p["id"] == pid)


async def wait_job(client: Client, job_id: str, state: str) -> dict[str, Any]:
    async def check() -> bool:
        return bool((await job(client, job_id))["state"] == state)
    await eventually(check, what=f"job {job_id} {state}")
    return await job(client, job_id)


async def wait_printer(client: Client, pid: str, *states: str) -> dict[str, Any]:
    async def check() -> bool:
        return (await printer(client, pid))["state"] in states
    await eventually(check, what=f"printer {pid} in {states}")
    return await printer(client, pid)


async def test_a_job_prints_once_and_a_duplicate_returns_the_first_state(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        body = document_job("ord-20261129-0042-slip", "front")
        r = await client.post("/v1/print-jobs", json=body)
        assert r.status == 202
        accepted = await r.json()
        assert (accepted["state"], accepted["version"]) == ("queued", 1)
        done = await wait_job(client, "ord-20261129-0042-slip", "printed")
        assert (done["copies_done"], done["version"]) == (1, 3)
        # A retrying client, a duplicate delivery: all answered with the stored state.
        again = await asyncio.gather(*(client.post("/v1/print-jobs", json=body)
                                       for _ in range(10)))
        assert {a.status for a in again} == {200}
        assert {(await a.json())["version"] for a in again} == {3}
    assert printed_ids(model) == ["ord-20261129-0042-slip"]


async def test_a_receipt_resubmitted_after_a_restart_is_not_printed_again(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port})
    body = receipt_job("ord-20261129-0042-slip", "front")
    per_copy = render_job(parse_job(body), cfg.printers[0].profile).data.count(b"XS-20261129-0042")
    async with agent_client(cfg) as (_, client):
        assert (await client.post("/v1/print-jobs", json=body)).status == 202
        await wait_job(client, "ord-20261129-0042-slip", "printed")
    async with agent_client(cfg) as (_, client):
        r = await client.post("/v1/print-jobs", json=body)
        assert (r.status, (await r.json())["state"]) == (200, "printed")
        await wait_printer(client, "front", "ok")
    assert len(model.jobs()) == 1
    assert bytes(model.received).count(b"XS-20261129-0042") == per_copy > 0
    assert "重庆江北建材旗舰店".encode("gb18030") in model.jobs()[0]


async def test_concurrent_duplicates_before_printing_are_accepted_once(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        body = raw_job("dup-1", "front", "冻品拣货单")
        rs = await asyncio.gather(*(client.post("/v1/print-jobs", json=body) for _ in range(20)))
        assert sorted(r.status for r in rs) == [200] * 19 + [202]
        await wait_job(client, "dup-1", "printed")
    assert printed_ids(model) == ["dup-1"]


async def test_same_id_different_body_is_409_and_bad_jobs_are_400_and_not_stored(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    _, shell = sim_printer(state="paper_out")
    _, shell58 = sim_printer(state="paper_out", profile="generic-cn-58")
    cfg = box_config(tmp_path, {"front": shell.port})
    raw = cfg.printers[0]
    narrow = box_config(tmp_path, {"small": shell58.port}, profile="generic-cn-58").printers[0]
    cfg = type(cfg)(cfg.box, cfg.api, cfg.queue, (raw, narrow), cfg.profiles)
    async with agent_client(cfg) as (_, client):
        assert (await client.post("/v1/print-jobs", json=raw_job("a-1", "front"))).status == 202
        r = await client.post("/v1/print-jobs", json=raw_job("a-1", "front", "另一张单"))
        assert r.status == 409
        err = (await r.json())["error"]
        assert err["field"] == "id" and err["job"]["id"] == "a-1"

        cases: list[tuple[dict[str, object], str]] = [
            ({**raw_job("b-1", "front"), "copies": 0}, "copies"),
            (raw_job("b-2", "后厨"), "printer"),
            ({"id": "b-3", "printer": "front", "template": "receipt", "data": {}}, "data.store"),
            (document_job("b-4", "small"), "document.blocks[2].cells"),
            ({"id": "坏", "printer": "front", "raw": "AA=="}, "id"),
        ]
        for body, field in cases:
            r = await client.post("/v1/print-jobs", json=body)
            assert r.status == 400, (field, await r.text())
            assert (await r.json())["error"]["field"] == field
            if isinstance(body.get("id"), str):
                assert (await client.get(f"/v1/print-jobs/{body['id']}")).status == 404
        r = await client.post("/v1/print-jobs", data=b"{not json",
                              headers={"Content-Type": "application/json"})
        assert r.status == 400 and (await r.json())["error"]["field"] == "body"
        r = await client.post("/v1/print-jobs", data=b"x" * (9 * 1024 * 1024),
                              headers={"Content-Type": "application/json"})
        assert r.status == 413 and "error" in await r.json()
        r = await client.get("/v1/print-jobs/nope")
        assert r.status == 404 and (await r.json())["error"]["field"] == "id"


async def test_paper_out_holds_jobs_and_paper_back_prints_them_in_order(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "ok")
        model.state = "paper_out"
        p = await wait_printer(client, "front", "paper_out")
        assert not p["ready"]
        ids = [f"hold-{i}" for i in range(6)]
        for i in ids:
            assert (await client.post("/v1/print-jobs", json=raw_job(i, "front"))).status == 202
        assert (await printer(client, "front"))["queue_depth"] == 6
        # Several polls go by with the printer out of paper: nothing is sent, nothing dropped.
        polled = (await printer(client, "front"))["checked_ms"]
        await eventually(lambda: _later(client, polled), what="two more status polls")
        assert model.all_jobs() == []
        assert {(await job(client, i))["state"] for i in ids} == {"queued"}
        model.state = "ok"
        for i in ids:
            await wait_job(client, i, "printed")
    assert printed_ids(model) == ids
    assert model.rejected == []


async def _later(client: Client, since_ms: int) -> bool:
    p = await printer(client, "front")
    return bool(p["checked_ms"] > since_ms + 300)


async def test_cover_open_is_reported_and_holds_jobs(tmp_path: Path,
                                                     sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "ok")
        model.state = "cover_open"
        p = await wait_printer(client, "front", "cover_open", "offline")
        assert not p["ready"]
        await client.post("/v1/print-jobs", json=raw_job("c-1", "front"))
        model.state = "ok"
        await wait_job(client, "c-1", "printed")
    assert printed_ids(model) == ["c-1"]


async def test_an_expired_job_never_prints(tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer(state="paper_out")
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "paper_out")
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        r = await client.post("/v1/print-jobs", json=raw_job("e-late", "front", expires_at=past))
        assert (r.status, (await r.json())["state"]) == (202, "expired")
        soon = (datetime.now(UTC) + timedelta(seconds=1)).astimezone().isoformat()
        await client.post("/v1/print-jobs", json=raw_job("e-soon", "front", expires_at=soon))
        await client.post("/v1/print-jobs", json=raw_job("e-keep", "front"))
        await wait_job(client, "e-soon", "expired")
        model.state = "ok"
        await wait_job(client, "e-keep", "printed")
        assert (await job(client, "e-late"))["state"] == "expired"
    assert printed_ids(model) == ["e-keep"]


async def test_cancel_works_for_queued_jobs_only(tmp_path: Path,
                                                 sim_printer: SimFactory) -> None:
    model, shell = sim_printer(state="paper_out")
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "paper_out")
        for i in ("k-1", "k-2"):
            await client.post("/v1/print-jobs", json=raw_job(i, "front"))
        r = await client.post("/v1/print-jobs/k-1/cancel")
        assert (r.status, (await r.json())["state"]) == (200, "canceled")
        model.state = "ok"
        await wait_job(client, "k-2", "printed")
        r = await client.post("/v1/print-jobs/k-2/cancel")
        assert r.status == 409
        assert (await r.json())["error"]["job"]["state"] == "printed"
        assert (await client.post("/v1/print-jobs/none/cancel")).status == 404
        # A canceled id stays taken: resubmitting it returns the canceled state.
        r = await client.post("/v1/print-jobs", json=raw_job("k-1", "front"))
        assert (r.status, (await r.json())["state"]) == (200, "canceled")
    assert printed_ids(model) == ["k-2"]


async def test_copies_print_n_times(tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await client.post("/v1/print-jobs", json=document_job("n-3", "front", copies=3))
        done = await wait_job(client, "n-3", "printed")
        assert done["copies_done"] == 3
    assert printed_ids(model) == ["n-3"] * 3


async def test_a_dead_printer_does_not_hold_up_a_healthy_one(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    from tests.agent.conftest import free_port

    model, shell = sim_printer()
    silent, silent_shell = sim_printer(state="cover_open")  # accepts, never answers
    cfg = box_config(tmp_path, {"dead": free_port(), "silent": silent_shell.port,
                                "front": shell.port}, backoff_max_s=30.0)
    async with agent_client(cfg) as (ctx, client):
        for n in range(5):
            await client.post("/v1/print-jobs", json=raw_job(f"dead-{n}", "dead"))
            await client.post("/v1/print-jobs", json=raw_job(f"silent-{n}", "silent"))
        healthy = [f"ok-{n}" for n in range(10)]
        for job_id in healthy:
            await client.post("/v1/print-jobs", json=raw_job(job_id, "front"))
        for job_id in healthy:
            await wait_job(client, job_id, "printed")
        dead = await printer(client, "dead")
        assert (dead["state"], dead["connected"], dead["queue_depth"]) == ("offline", False, 5)
        assert "unreachable" in (dead["last_error"] or "")
        assert (await printer(client, "silent"))["queue_depth"] == 5
        assert not ctx.printers["silent"].snapshot().ready
    assert printed_ids(model) == healthy
    assert silent.all_jobs() == []


async def test_a_job_left_printing_by_a_crash_is_unknown_until_a_person_resolves_it(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    store = await asyncio.to_thread(Store.open, tmp_path / "queue.db")
    for i in ("u-1", "u-2"):
        await store.submit(parse_job(raw_job(i, "front")), 1, 2**50)
        await store.claim_next("front", 2)  # as if the daemon died right after the claim
    await store.close()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "ok")
        listed = await get_json(client, "/v1/print-jobs?state=unknown")
        assert sorted(j["id"] for j in listed["jobs"]) == ["u-1", "u-2"]
        assert model.all_jobs() == []
        r = await client.post("/v1/print-jobs/u-1/resolve", json={"action": "reprint"})
        assert (await r.json())["state"] == "queued"
        r = await client.post("/v1/print-jobs/u-2/resolve", json={"action": "done"})
        assert (await r.json())["state"] == "printed"
        await wait_job(client, "u-1", "printed")
        r = await client.post("/v1/print-jobs/u-1/resolve", json={"action": "reprint"})
        assert r.status == 409
        r = await client.post("/v1/print-jobs/u-1/resolve", json={"action": "打印"})
        assert r.status == 400 and (await r.json())["error"]["field"] == "action"
    assert printed_ids(model) == ["u-1"]


async def test_events_stream_every_state_change_in_order(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        await wait_printer(client, "front", "ok")
        async with client.ws_connect("/v1/events") as ws:
            hello = await ws.receive_json(timeout=10)
            assert hello["type"] == "hello" and hello["box"] == "CQ-JB-001-B1"
            await client.post("/v1/print-jobs", json=raw_job("ev-1", "front", copies=2))
            seen: list[tuple[str, int, int]] = []
            while not seen or seen[-1][0] != "printed":
                ev = await ws.receive_json(timeout=10)
                if ev["type"] == "job" and ev["id"] == "ev-1":
                    seen.append((ev["state"], ev["version"], ev["copies_done"]))
            assert seen == [("queued", 1, 0), ("printing", 2, 0), ("printing", 3, 1),
                            ("printed", 4, 2)]
            model.state = "paper_out"
            while True:
                ev = await ws.receive_json(timeout=10)
                if ev["type"] == "printer":
                    break
            assert (ev["id"], ev["state"], ev["connected"]) == ("front", "paper_out", True)


async def test_printers_drawer_self_test_health_preview_and_page(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    from tests.agent.conftest import free_port

    model, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port, "dead": free_port()})
    async with agent_client(cfg) as (_, client):
        p = await wait_printer(client, "front", "ok")
        assert (p["profile"], p["transport"]) == ("generic-cn-80",
                                                  f"tcp://127.0.0.1:{shell.port}")
        r = await client.post("/v1/printers/front/drawer", json={"pin": 5})
        assert r.status == 200, await r.text()
        await eventually(lambda: b"\x1bp\x01" in model.received, what="drawer kick")
        r = await client.post("/v1/printers/dead/drawer")
        assert r.status == 503 and (await r.json())["error"]["field"] == "printer"
        assert (await client.post("/v1/printers/front/drawer", json={"pin": 3})).status == 400
        assert (await client.post("/v1/printers/后厨/drawer")).status == 404

        r = await client.post("/v1/printers/front/self-test")
        assert r.status == 202
        test_job = (await r.json())["id"]
        await wait_job(client, test_job, "printed")
        assert "打印机自检".encode("gb18030") in model.jobs()[-1]

        await client.post("/v1/print-jobs", json=document_job("pv-1", "front"))
        r = await client.get("/v1/print-jobs/pv-1/preview.png")
        assert r.status == 200 and r.content_type == "image/png"
        assert (await r.read()).startswith(b"\x89PNG\r\n\x1a\n")

        health = await get_json(client, "/v1/health")
        # One printer of two is dead: degraded, naming it (issue 13: it used to say ok).
        assert health["status"] == "degraded" and health["printers"] == {"total": 2, "ready": 1}
        assert [(r["code"], r["subject"]) for r in health["reasons"]] == [("printer", "dead")]
        listed = await get_json(client, "/v1/print-jobs?state=printed,queued,printing&limit=1")
        assert len(listed["jobs"]) == 1 and listed["next_before"] is not None
        assert (await client.get("/v1/print-jobs?state=lost")).status == 400
        page = await client.get("/")
        text = await page.text()
        assert page.status == 200 and "打印状态" in text and "缺纸" in text


async def test_with_a_token_every_request_needs_it(tmp_path: Path,
                                                   sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    token = "s3cret-token-CQ-JB-001"
    cfg = box_config(tmp_path, {"front": shell.port}, token=token)
    async with agent_client(cfg) as (_, client):
        for method, path in (("GET", "/"), ("GET", "/v1/health"), ("GET", "/v1/printers"),
                             ("POST", "/v1/print-jobs"), ("GET", "/v1/events")):
            r = await client.request(method, path, data=json.dumps(raw_job("t-1", "front")))
            assert r.status == 401, path
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
        bad = {"Authorization": "Bearer wrong"}
        assert (await client.get("/v1/health", headers=bad)).status == 401
        good = {"Authorization": f"Bearer {token}"}
        r = await client.post("/v1/print-jobs", json=raw_job("t-1", "front"), headers=good)
        assert r.status == 202
        assert (await client.get("/", headers=good)).status == 200
        refused = await client.get(f"/?token={token}")
        assert refused.status == 400 and (await refused.json())["error"]["field"] == "token"
