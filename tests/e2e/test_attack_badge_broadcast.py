"""Issue 11 #5 against a running daemon: a supervisor's badge scanned on a serial scanner (a
pty) never reaches /v1/events, GET /v1/scanners, the journal or the log; the approval takes it
privately with `{"scanner": id}`, once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from drivers.sim.scanner import SerialScannerSim
from tests.e2e.journal_box import SUPERVISOR_BADGE, WORKER_BADGE, JournalBox, dumps, ws_events

pytestmark = pytest.mark.timeout(180)
PRODUCT = "6901234500017"
SENTINEL = "END-OF-TEST-不锈钢合页"


@pytest.fixture
def scanner() -> Iterator[SerialScannerSim]:
    with SerialScannerSim(b"\r") as sim:
        yield sim


@pytest.fixture
def journal_box(tmp_path: Path, scanner: SerialScannerSim) -> Iterator[JournalBox]:
    with JournalBox(tmp_path, scanner=scanner.port) as b:
        yield b


def scanner_connected(b: JournalBox) -> bool:
    status, body = b.api("GET", "/v1/scanners")
    return status == 200 and bool(body["scanners"]) and body["scanners"][0]["connected"]


async def events_until_sentinel(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Every event up to the sentinel scan (its own event included)."""
    out: list[dict[str, Any]] = []
    while True:
        event = await ws.receive_json(timeout=30)
        out.append(event)
        if event.get("type") == "scan" and event.get("code") == SENTINEL:
            return out


async def test_a_scanned_supervisor_badge_is_not_broadcast_and_approves_once(
        journal_box: JournalBox, scanner: SerialScannerSim) -> None:
    b = journal_box.start()
    deadline = time.monotonic() + 30
    while not await asyncio.to_thread(scanner_connected, b):
        assert time.monotonic() < deadline, "the scanner did not open"
        await asyncio.sleep(0.1)
    status, _ = await asyncio.to_thread(b.api, "POST", "/v1/day-close", {"print": False})
    assert status == 201
    # Someone guesses through the API until no typed credential is checked any more …
    reopen: dict[str, object] = {"reason": "漏录一笔现金销售", "clerk": "C001"}
    for i in range(6):
        status, answer = await asyncio.to_thread(b.api, "POST", "/v1/day-reopen", {
            **reopen, "approval": {"badge": f"BADGE-X{i}"}})
        assert "does not match" in answer["error"]["reason"], answer
    status, answer = await asyncio.to_thread(b.api, "POST", "/v1/day-reopen", {
        **reopen, "approval": {"badge": SUPERVISOR_BADGE}})
    assert "try again in" in answer["error"]["reason"], answer
    async with aiohttp.ClientSession() as session:
        ws = await ws_events(session, b.url)
        for code in (PRODUCT, SUPERVISOR_BADGE, WORKER_BADGE, SENTINEL):
            scanner.scan(code)
        events = await events_until_sentinel(ws)
        await ws.close()
    wire = dumps(events)
    assert SUPERVISOR_BADGE not in wire and WORKER_BADGE not in wire, wire
    assert [e["code"] for e in events if e["type"] == "scan"] == [PRODUCT, SENTINEL]
    badges = [(e["device"], e["role"], e["id"]) for e in events if e["type"] == "badge"]
    assert badges == [("till", "supervisor", "M001"), ("till", "worker", "W001")]
    status, listing = await asyncio.to_thread(b.api, "GET", "/v1/scanners")
    assert status == 200 and listing["scanners"][0]["scans"] == 4
    assert SUPERVISOR_BADGE not in dumps(listing) and WORKER_BADGE not in dumps(listing)
    assert [s["code"] for s in listing["recent"]] == [SENTINEL, PRODUCT]

    # The approval gets the badge privately: the scanner's id, not the code; and the badge at
    # the scanner is not made to wait by the guessing.
    reopen = {**reopen, "approval": {"scanner": "till"}}
    status, answer = await asyncio.to_thread(b.api, "POST", "/v1/day-reopen", reopen)
    assert (status, answer["approver"]) == (201, "M001"), answer
    # Once: the same scan does not approve twice.
    status, _ = await asyncio.to_thread(b.api, "POST", "/v1/day-close", {"print": False})
    assert status == 201
    status, answer = await asyncio.to_thread(b.api, "POST", "/v1/day-reopen", reopen)
    assert (status, answer["error"]["field"]) == (403, "approval.scanner"), answer
    records = await asyncio.to_thread(b.journal_records)
    [approval] = [r for r in records if r["type"] == "approval"]
    assert (approval["body"]["approver"], approval["body"]["via"]) == ("M001", "badge")
    assert SUPERVISOR_BADGE not in dumps(records)
    assert SUPERVISOR_BADGE not in b.log_text()
