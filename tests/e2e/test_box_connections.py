"""Connection exhaustion against the real daemon (issue 11, point 6).

The daemon runs with 128 file descriptors (RLIMIT_NOFILE), so a few hundred connections are
what 1,100 are to a daemon with the usual 1,024; its caps are lowered by configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.edge_proc import box_toml
from tests.e2e.procs import Proc, limited_process

NOFILE = 128
SLOW = 220
WEBSOCKETS = 14


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Proc]:
    """`storelink agent run` with 128 descriptors, 40 connections and 10 subscribers at most."""
    config = tmp_path / "box.toml"
    config.write_text(box_toml(tmp_path / "state", api="max_connections = 40\n"
                               "max_websockets = 10\nheader_timeout_s = 2.0"), encoding="utf-8")
    proc = limited_process("agent", ["storelink", "agent", "run", "--config", str(config)],
                           NOFILE, tmp_path / "box.log").start()
    try:
        yield proc
    finally:
        proc.stop()


async def half_sent(port: int) -> socket.socket:
    """A connection that sent the first line of a request and one header, and then waits."""
    loop = asyncio.get_running_loop()
    s = socket.socket()
    s.setblocking(False)
    with contextlib.suppress(OSError):  # the daemon may already have dropped it
        await loop.sock_connect(s, ("127.0.0.1", port))
        await loop.sock_sendall(s, b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return s


async def test_slow_requests_and_idle_websockets_leave_health_answering(box: Proc) -> None:
    slow = [await half_sent(box.port) for _ in range(SLOW)]
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        refused: list[int] = []
        for _ in range(WEBSOCKETS):
            try:
                sockets.append(await http.ws_connect(f"{box.url}/v1/events"))
            except aiohttp.WSServerHandshakeError as e:
                refused.append(e.status)
        assert (len(sockets), refused) == (10, [503] * (WEBSOCKETS - 10))
        # Every slow connection and every subscriber is still held open by the attacker.
        async with http.get(f"{box.url}/v1/health") as r:
            # It answers (its printer is not attached here, so it says degraded, with reasons).
            assert r.status == 200 and (await r.json())["status"] in ("ok", "degraded")
        for ws in sockets:
            await ws.close()
    for s in slow:
        s.close()
    log = box.log_text()
    assert log.count("Too many open files") <= 1, log[-3000:]
    assert len(log.splitlines()) < 60, log[-3000:]
