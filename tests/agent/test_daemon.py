"""The daemon as a real process: ready line, clean SIGTERM, and kill -9 in a burst of 200 jobs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from tests.agent.conftest import SimFactory, eventually, free_port, marker, raw_job
from tests.e2e.world import front_printer, store_box

ROOT = Path(__file__).resolve().parents[2]
RUN = ("import sys; from pathlib import Path; from agent.config import load_config; "
       "from agent.daemon import run; sys.exit(run(load_config(Path(sys.argv[1]))))")
READY = re.compile(r"storelink agent ready on (http://[^\s]+)")


def write_config(tmp_path: Path, printer_port: int, api_port: int) -> Path:
    path = tmp_path / "storelink.toml"
    path.write_text(store_box(tmp_path / "state") + f"""
[api]
listen = "127.0.0.1"
port = {api_port}

[queue]
poll_interval_s = 0.2
backoff_max_s = 1.0
""" + front_printer(printer_port), encoding="utf-8")
    return path


@contextlib.asynccontextmanager
async def daemon(config: Path) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """Start the daemon and wait for its ready line; kill it if the test leaves it running."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, str(config), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        m = READY.search(line.decode())
        if m is None:
            err = await proc.stderr.read() if proc.stderr else b""
            raise AssertionError(f"no ready line: {line!r} {err.decode()[-2000:]}")
        yield proc, m.group(1)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_ready_then_sigterm_exits_cleanly_keeping_held_jobs(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer(state="paper_out")
    cfg = write_config(tmp_path, shell.port, free_port())
    async with daemon(cfg) as (proc, url), aiohttp.ClientSession(url) as http:
        for i in range(3):
            r = await http.post("/v1/print-jobs", json=raw_job(f"held-{i}", "front"))
            assert r.status == 202
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert proc.stderr is not None
        assert b"stopped" in await proc.stderr.read()
    model.state = "ok"
    async with daemon(cfg) as (proc, url), aiohttp.ClientSession(url) as http:
        for i in range(3):
            async def printed(job_id: str = f"held-{i}") -> bool:
                r = await http.get(f"/v1/print-jobs/{job_id}")
                return bool((await r.json())["state"] == "printed")
            await eventually(printed, what=f"held-{i} printed after restart")
    assert [d.count(b"#held-") for d in model.jobs()] == [1, 1, 1]


async def test_a_second_daemon_on_the_same_state_is_refused(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    async with daemon(write_config(tmp_path, shell.port, free_port())):
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN, str(write_config(tmp_path, shell.port, free_port())),
            cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1 and b"ready" not in out
        assert b"in use by another storelink daemon" in err


async def test_kill_9_in_a_burst_loses_no_accepted_job_and_prints_none_twice(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = write_config(tmp_path, shell.port, free_port())
    ids = [f"burst-{i:03d}" for i in range(200)]
    accepted: list[str] = []
    async with daemon(cfg) as (proc, url):
        killed = asyncio.Event()

        async def submit(http: aiohttp.ClientSession, job_id: str) -> None:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.post("/v1/print-jobs",
                                     json=raw_job(job_id, "front", "冻品拣货单")) as r:
                    if r.status == 202:
                        accepted.append(job_id)
            if len(accepted) >= 80 and not killed.is_set():
                killed.set()
                proc.send_signal(signal.SIGKILL)

        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(url, timeout=timeout,
                                         connector=aiohttp.TCPConnector(limit=50)) as http:
            await asyncio.gather(*(submit(http, i) for i in ids))
        assert killed.is_set(), "the burst finished before the kill"
        await proc.wait()
    assert 80 <= len(accepted) < 200

    async with daemon(cfg) as (_, url), aiohttp.ClientSession(url) as http:
        async def settled() -> bool:
            r = await http.get("/v1/print-jobs?state=queued,printing&limit=1")
            return not (await r.json())["jobs"]
        await eventually(settled, within=60, what="the queue to drain after restart")
        states: dict[str, str] = {}
        for job_id in ids:
            r = await http.get(f"/v1/print-jobs/{job_id}")
            if r.status == 200:
                states[job_id] = (await r.json())["state"]
            else:
                assert r.status == 404
    lost = [i for i in accepted if i not in states]
    assert lost == []
    assert set(states.values()) <= {"printed", "unknown"}
    unknown = [i for i, s in states.items() if s == "unknown"]
    assert len(unknown) <= 1
    received = bytes(model.received)
    for job_id in ids:
        n = received.count(marker(job_id))
        if states.get(job_id) == "printed":
            assert n == 1, (job_id, n)
        else:
            assert n <= 1, (job_id, n)
