"""The cash drawer's one gate on the local API: a print job whose bytes would open the drawer (a
`drawer` block, ESC p or DLE DC4 1 in a raw job) needs the approval the drawer endpoint needs,
is refused with 403 naming why, and once approved is journaled as `drawer.open`."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from agent.printing.jobs import parse_job
from agent.printing.queue.store import Store
from tests.agent.conftest import SimFactory, eventually, marker
from tests.agent.sales.conftest import PIN, audits, front_ready, post, records

ESC_P = b"\x1bp\x00\x19\xfa"
DLE_DC4 = b"\x10\x14\x01\x00\x01"


def _raw(job_id: str, middle: bytes) -> dict[str, Any]:
    data = b"\x1b@" + f"钱箱测试 #{job_id}#\n".encode("gb18030") + middle + b"\x1dVA\x00"
    return {"id": job_id, "printer": "front", "raw": base64.b64encode(data).decode()}


def _drawer_document(job_id: str) -> dict[str, Any]:
    return {"id": job_id, "printer": "front", "document": {"blocks": [
        {"type": "text", "text": f"找零 #{job_id}#"}, {"type": "drawer", "pin": 2},
        {"type": "cut"}]}}



async def test_print_jobs_that_kick_the_drawer_need_an_approval(tmp_path: Path,
                                                                 sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    db = tmp_path / "journal.db"
    async with front_ready(tmp_path, shell.port) as client:
        refused = [(_drawer_document("doc-1"), "document.blocks[1]"),
                   (_raw("raw-esc-p", ESC_P), "raw"),
                   (_raw("raw-dle-dc4", DLE_DC4), "raw"),
                   # ESC at the end, p… at the start of the next job: the printer joins them.
                   ({**_raw("raw-split", b""), "raw": base64.b64encode(
                       b"\x1b@split\n\x1dVA\x00\x1b").decode()}, "raw")]
        for body, field in refused:
            status, out = await post(client, "/v1/print-jobs", body)
            assert (status, out["error"]["field"]) == (403, field), out
            assert "cash drawer" in out["error"]["reason"] and "approval" in out["error"]["reason"]
            assert (await client.get(f"/v1/print-jobs/{body['id']}")).status == 404
        status, out = await post(client, "/v1/print-jobs", {**_raw("raw-wrong", ESC_P),
                                                            "approval": {"pin": "0000"}})
        assert (status, out["error"]["field"]) == (403, "approval")
        # A harmless job prints (the printer is alive), and none of the refused ones kicked.
        status, _ = await post(client, "/v1/print-jobs", _raw("plain", b""))
        assert status == 202
        await eventually(lambda: marker("plain") in bytes(model.received), what="plain job")
        assert model.kicks == [] and b"\x1bp" not in model.received
        assert records(db, "approval") == []

        status, out = await post(client, "/v1/print-jobs", {
            **_drawer_document("doc-ok"), "approval": PIN, "reason": "找零钱", "clerk": "C002"})
        assert status == 202, out
        await eventually(lambda: model.kicks == [2], what="approved kick")
        status, out = await post(client, "/v1/print-jobs", {**_raw("raw-ok", DLE_DC4),
                                                            "approval": {"badge": "BADGE-M001"}})
        assert status == 202, out
        await eventually(lambda: model.kicks == [2, 2], what="approved real-time kick")
        # The same job again is the same job: no second approval, no second kick.
        status, out = await post(client, "/v1/print-jobs", _drawer_document("doc-ok"))
        assert status == 200, out
        status, out = await post(client, "/v1/print-jobs", {**_raw("no-kick", b""),
                                                            "approval": PIN})
        assert (status, out["error"]["field"]) == (400, "approval")
    approvals = records(db, "approval")
    assert [(a["body"]["action"], a["body"]["approver"], a["body"]["via"], a["body"]["subject"])
            for a in approvals] == [("drawer_open", "M001", "pin", "开钱箱 front: 找零钱"),
                                    ("drawer_open", "M001", "badge", "开钱箱 front")]
    trail = audits(db, "drawer.open")
    admitted = [a for a in trail if " → 202" in a["detail"]]
    assert [a["ref_seq"] for a in admitted] == [a["seq"] for a in approvals]
    # The actor is who was authenticated (the approving supervisor); the clerk only claimed.
    assert admitted[0]["actor"] == "M001" and "claimed clerk C002" in admitted[0]["detail"]
    assert "print job doc-ok opens the cash drawer (ESC p at byte" in admitted[0]["detail"]
    assert "by M001 (pin)" in admitted[0]["detail"]
    assert sum(" → 403" in a["detail"] for a in trail) == 5


async def test_image_bytes_and_text_that_only_look_like_a_kick_print(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    # ESC p inside a GS v 0 raster's data and inside an ESC ! parameter: the command-length
    # table skips them, as the printer does.
    raster = b"\x1dv0\x00\x05\x00\x01\x00" + b"\x1bp\x00\x19\xfa"
    async with front_ready(tmp_path, shell.port) as client:
        status, out = await post(client, "/v1/print-jobs", _raw("image", raster))
        assert status == 202, out
        await eventually(lambda: marker("image") in bytes(model.received), what="image job")
        await eventually(lambda: len(model.jobs()) == 1, what="image job printed")
        assert model.kicks == []


async def test_reprinting_a_job_that_kicks_needs_an_approval_again(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    db = tmp_path / "journal.db"
    store = await asyncio.to_thread(Store.open, tmp_path / "queue.db")
    await store.submit(parse_job(_raw("kick-1", ESC_P)), 1, 2**50)
    await store.claim_next("front", 2)  # as if the daemon died while printing it
    await store.close()
    async with front_ready(tmp_path, shell.port) as client:
        status, out = await post(client, "/v1/print-jobs/kick-1/resolve", {"action": "reprint"})
        assert (status, out["error"]["field"]) == (403, "approval"), out
        assert "a reprint of print job kick-1 opens the cash drawer" in out["error"]["reason"]
        r = await client.get("/v1/print-jobs/kick-1")
        assert (await r.json())["state"] == "unknown"
        status, out = await post(client, "/v1/print-jobs/kick-1/resolve",
                                 {"action": "reprint", "approval": PIN, "reason": "补打"})
        assert (status, out["state"]) == (200, "queued"), out
        await eventually(lambda: model.kicks == [2], what="the approved reprint's kick")
    [approval] = records(db, "approval")
    assert approval["body"]["subject"] == "开钱箱 front: 补打"
    assert [a["ref_seq"] for a in audits(db, "drawer.open") if " → 200" in a["detail"]] == [
        approval["seq"]]
