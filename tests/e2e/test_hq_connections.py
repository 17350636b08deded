"""Connection exhaustion against the real HQ (issue 11, point 6): HQ runs with 128 file
descriptors and a cap of 40 connections; 220 half-sent requests leave its API answering."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.e2e.broker import Broker
from tests.e2e.procs import limited_process
from tests.e2e.test_box_connections import NOFILE, SLOW, half_sent
from tests.hq.journals import hq_toml


async def test_slow_requests_leave_hqs_api_answering(tmp_path: Path) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    config = hq_toml(tmp_path, broker.port)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "port = 0\n", "port = 0\nmax_connections = 40\nheader_timeout_s = 2.0\n"),
        encoding="utf-8")
    hq = limited_process("hq.cli", ["storelink-hq", "run", "--config", str(config)], NOFILE,
                         tmp_path / "hq.log").start()
    try:
        slow = [await half_sent(hq.port) for _ in range(SLOW)]
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(timeout=timeout) as http, \
                http.get(f"{hq.url}/v1/boxes") as r:
            assert r.status == 200 and "boxes" in await r.json()
        for s in slow:
            s.close()
        log = hq.log_text()
        assert log.count("Too many open files") <= 1, log[-3000:]
        assert len(log.splitlines()) < 60, log[-3000:]
    finally:
        hq.stop()
        broker.stop()
