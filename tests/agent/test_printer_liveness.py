"""The liveness rule (docs/local-api.md, "How the state is known"): a status reply within the poll
interval is online; no reply while the printer is still taking the bytes sent to it is `busy`,
never offline. Real daemon services on a real socket, simulated printers on real TCP ports."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from agent.api.context import AgentContext
from agent.config import Config, parse_config
from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import Client, agent_client, document_job, eventually, marker

CN80 = get_profile("generic-cn-80")


def _config(tmp_path: Path, port: int, poll_s: float) -> Config:
    return parse_config({
        "box": {"id": "CQ-JB-001-B1", "store": "重庆江北建材旗舰店", "state_dir": str(tmp_path)},
        "queue": {"poll_interval_s": poll_s, "backoff_max_s": 1.0},
        "printers": [{"id": "front", "name": "前台小票机", "profile": "generic-cn-80",
                      "transport": "tcp", "host": "127.0.0.1", "port": port,
                      "connect_timeout": 1.0, "write_timeout": 30.0}]})


@contextlib.asynccontextmanager
async def _states(ctx: AgentContext) -> AsyncIterator[list[str]]:
    """Every state the printer shows meanwhile: its events and its snapshot, sampled (offline
    until its first reply: that is "connecting")."""
    seen: list[str] = [ctx.printers["front"].snapshot().state.value]
    sub = ctx.bus.subscribe(backlog=100_000)

    async def events() -> None:
        async for ev in sub:
            if ev.get("type") == "printer":
                seen.append(str(ev["state"]))

    async def sample() -> None:
        while True:
            seen.append(ctx.printers["front"].snapshot().state.value)
            await asyncio.sleep(0.02)

    tasks = [asyncio.create_task(events()), asyncio.create_task(sample())]
    try:
        yield seen
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t


async def _printed(client: Client, job_id: str) -> bool:
    r = await client.get(f"/v1/print-jobs/{job_id}")
    return bool((await r.json())["state"] == "printed")


async def test_a_printer_answering_within_the_poll_interval_is_online(tmp_path: Path) -> None:
    # DLE EOT answered after 1.2 s, polled every 4 s: within the window, so online.
    model = SimEscposPrinter(CN80, "slow", slow_delay=1.2, slow_read_pause=0.0)
    with TcpShell(model) as shell:
        async with agent_client(_config(tmp_path, shell.port, 4.0)) as (ctx, client), \
                _states(ctx) as seen:
            await eventually(lambda: ctx.printers["front"].snapshot().ready, within=30,
                             what="printer ready")
            r = await client.post("/v1/print-jobs", json=document_job("slow-1", "front"))
            assert r.status == 202
            await eventually(lambda: _printed(client, "slow-1"), within=30, what="printed")
            assert marker("slow-1") in model.jobs()[-1]
    assert "offline" not in seen[seen.index("ok"):], seen


async def test_a_long_raster_still_draining_is_busy_not_offline(tmp_path: Path) -> None:
    # A small input buffer taken slowly (4 KiB per 50 ms): 560 kB of raster take seconds to go
    # in, and the status query waits behind them.
    model = SimEscposPrinter(CN80, "slow", slow_delay=0.0, slow_read_pause=0.05)
    rows = 560_000 // 72
    raster = b"\x1dv0\x00" + (72).to_bytes(2, "little") + rows.to_bytes(2, "little")
    data = b"\x1b@" + "长图 #raster-1#\n".encode("gb18030") + raster + b"\x00" * (72 * rows) \
        + b"\x1dVA\x00"
    job = {"id": "raster-1", "printer": "front", "raw": base64.b64encode(data).decode()}
    with TcpShell(model, rcvbuf=8192) as shell:
        async with agent_client(_config(tmp_path, shell.port, 0.5)) as (ctx, client), \
                _states(ctx) as seen:
            await eventually(lambda: ctx.printers["front"].snapshot().ready, within=30,
                             what="printer ready")
            r = await client.post("/v1/print-jobs", json=job)
            assert r.status == 202, await r.text()
            await eventually(lambda: _printed(client, "raster-1"), within=60, what="printed")
            assert marker("raster-1") in model.jobs()[-1]
    assert "busy" in seen and "offline" not in seen[seen.index("ok"):], seen

