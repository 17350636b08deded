"""The demo's scanning step: a simulated serial scanner's codes arrive on /v1/events in order."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

from agent.demo.scans import DEMO_CODES, run_scan_demo, scanner_toml
from drivers.sim.scanner import SerialScannerSim
from tests.agent.devices.conftest import daemon_client, devices_config


async def test_demo_scans_flow_to_the_event_stream_and_the_scanner_list(tmp_path: Path) -> None:
    said: list[str] = []
    with SerialScannerSim(b"\r") as sim:
        scanners = tomllib.loads(scanner_toml(sim.port))["scanners"]
        cfg = devices_config(tmp_path, scanners=scanners)
        async with daemon_client(cfg) as (_, client):
            base = str(client.make_url("/"))
            events = await asyncio.to_thread(run_scan_demo, base, sim, said.append)
            listing = await (await client.get("/v1/scanners")).json()
            page = await (await client.get("/")).text()
    assert [e["code"] for e in events] == [code[3:] for code, _ in DEMO_CODES]
    assert [e["symbology"] for e in events] == ["EAN13", "EAN13", "GS1-128", "QR"]
    assert events[2]["gs1"] == {"gtin": "06901234500011", "expiry": "2026-11-30",
                                "batch": "LOT-2026A"}
    assert any("重庆江北建材旗舰店" in line for line in said)
    assert [e["code"] for e in listing["recent"]] == [code[3:] for code, _ in DEMO_CODES][::-1]
    assert "扫码枪" in page and "/v1/scanners" in page and "/v1/devices" in page
