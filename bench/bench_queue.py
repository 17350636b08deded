"""Print queue figures: jobs/s accepted and printed, POST latency under 50 clients, idle RSS.

Each figure is printed beside a baseline measured in the same run: a bare aiohttp handler that
parses the JSON and does the same SQLite commit (WAL, synchronous=FULL, one row per request)
and nothing else. The daemon and the baseline run as separate processes; the simulated printer
and the clients run in this one. Every figure is the median of --runs runs.

    .venv/bin/python bench/bench_queue.py [--jobs 1000] [--clients 50] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import socket
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.rows import Row, add_json_flag, emit  # noqa: E402
from drivers.profiles import get_profile  # noqa: E402
from drivers.sim.printer import SimEscposPrinter, SimJob  # noqa: E402
from drivers.sim.shells import TcpShell  # noqa: E402

READY = re.compile(r"ready on (http://\S+)")
DAEMON = ("import sys; from pathlib import Path; from agent.config import load_config; "
          "from agent.daemon import run; sys.exit(run(load_config(Path(sys.argv[1]))))")


def receipt(job_id: str) -> dict[str, object]:
    """A small Chinese receipt as a document job (what a till sends)."""
    return {"id": job_id, "printer": "front", "document": {"blocks": [
        {"type": "text", "text": "重庆江北建材旗舰店", "align": "center", "bold": True,
         "width": 2, "height": 2},
        {"type": "text", "text": f"单号: {job_id}  收银员: 李晓燕"},
        {"type": "columns", "cells": [{"text": "不锈钢合页 4寸 304 / 2.5mm", "width": 24},
                                      {"text": "4片", "width": 8, "align": "right"},
                                      {"text": "34.00", "align": "right"}]},
        {"type": "columns", "cells": [{"text": "静音抽屉滑轨 三节", "width": 24},
                                      {"text": "1副", "width": 8, "align": "right"},
                                      {"text": "36.00", "align": "right"}]},
        {"type": "rule"},
        {"type": "text", "text": "合计 ¥70.00  现金 ¥100.00  找零 ¥30.00"},
        {"type": "text", "text": "谢谢惠顾，欢迎再次光临！", "align": "center"},
        {"type": "cut"}]}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# --- the baseline server: parse JSON, one SQLite commit per request, answer 202 ---------------

def baseline_server(port: int, db: Path) -> None:
    """Run the bare aiohttp baseline until killed."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, body TEXT, "
                 "body_hash TEXT, state TEXT, created_ms INTEGER)")
    lock = threading.Lock()

    def commit(job_id: str, body: str) -> None:
        with lock:
            conn.execute("INSERT OR IGNORE INTO jobs VALUES (?, ?, ?, 'queued', ?)",
                         (job_id, body, hashlib.sha256(body.encode()).hexdigest(),
                          time.time_ns() // 1_000_000))

    async def post(request: web.Request) -> web.Response:
        raw = await request.json()
        await asyncio.to_thread(commit, str(raw["id"]), json.dumps(raw, ensure_ascii=False))
        return web.json_response({"id": raw["id"], "state": "queued"}, status=202)

    app = web.Application()
    app.router.add_post("/v1/print-jobs", post)
    print(f"baseline ready on http://127.0.0.1:{port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# --- measurement -------------------------------------------------------------------------------

@dataclass
class Figures:
    accepted_per_s: float
    p50_ms: float
    p99_ms: float
    printed_per_s: float | None
    idle_rss_mib: float
    startup_s: float


async def start(cmd: list[str]) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(*cmd, cwd=ROOT, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    m = READY.search(line)
    if m is None:
        raise RuntimeError(f"{cmd[0]} did not start: {line!r}")
    return proc, m.group(1)


async def load(url: str, n: int, clients: int, prefix: str) -> tuple[float, list[float]]:
    """POST n jobs from `clients` concurrent clients; (seconds, latencies in ms)."""
    todo = iter(range(n))
    latencies: list[float] = []

    async def client(http: aiohttp.ClientSession) -> None:
        for i in todo:
            body = receipt(f"{prefix}-{i:06d}")
            t0 = time.perf_counter()
            async with http.post("/v1/print-jobs", json=body) as r:
                await r.read()
                if r.status != 202:
                    raise RuntimeError(f"HTTP {r.status}: {await r.text()}")
            latencies.append((time.perf_counter() - t0) * 1000)

    conn = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(url, connector=conn) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - t0, latencies


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def measure_daemon(jobs: int, clients: int, run: int) -> Figures:
    printed = threading.Event()
    count = 0

    def on_job(_: int, job: SimJob) -> None:
        nonlocal count
        count += 1
        if count >= jobs:
            printed.set()

    model = SimEscposPrinter(get_profile("generic-cn-80"), on_job=on_job)
    with TcpShell(model) as shell, tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "box.toml"
        cfg.write_text(f"""
[box]
id = "BENCH-B1"
state_dir = "{tmp}/state"
[api]
port = {free_port()}
[queue]
max_depth = {max(500, jobs + 100)}  # all jobs may wait: a loaded machine prints slower
[[printers]]
id = "front"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {shell.port}
""", encoding="utf-8")
        t_start = time.perf_counter()
        proc, url = await start([sys.executable, "-c", DAEMON, str(cfg)])
        startup = time.perf_counter() - t_start
        try:
            await asyncio.sleep(1.0)
            idle = rss_kib(proc.pid) / 1024
            t0 = time.perf_counter()
            seconds, lat = await load(url, jobs, clients, f"r{run}")
            await asyncio.to_thread(printed.wait, 300)
            printed_s = time.perf_counter() - t0
        finally:
            proc.terminate()
            await proc.wait()
        return Figures(jobs / seconds, pct(lat, 0.5), pct(lat, 0.99),
                       jobs / printed_s if printed.is_set() else None, idle, startup)


async def measure_baseline(jobs: int, clients: int, run: int) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        t_start = time.perf_counter()
        proc, url = await start([sys.executable, __file__, "--baseline-server", str(port),
                                 f"{tmp}/base.db"])
        startup = time.perf_counter() - t_start
        try:
            await asyncio.sleep(1.0)
            idle = rss_kib(proc.pid) / 1024
            seconds, lat = await load(url, jobs, clients, f"b{run}")
        finally:
            proc.terminate()
            await proc.wait()
        return Figures(jobs / seconds, pct(lat, 0.5), pct(lat, 0.99), None, idle, startup)


def median(figs: list[Figures], key: Callable[[Figures], float | None]) -> str:
    vals = [v for v in map(key, figs) if v is not None]
    return f"{statistics.median(vals):9.1f}" if vals else "        -"


def _med(figs: list[Figures], key: Callable[[Figures], float | None]) -> float:
    vals = [v for v in map(key, figs) if v is not None]
    return statistics.median(vals) if vals else float("nan")


async def main(jobs: int, clients: int, runs: int, as_json: bool = False) -> None:
    daemon: list[Figures] = []
    base: list[Figures] = []
    for run in range(runs):
        base.append(await measure_baseline(jobs, clients, run))
        daemon.append(await measure_daemon(jobs, clients, run))
    print(f"print queue: {jobs} receipt jobs, {clients} concurrent clients, median of {runs} "
          f"runs ({os.cpu_count()} CPUs)")
    print(f"{'':34}{'daemon':>9}  {'baseline':>9}")
    rows: list[tuple[str, Callable[[Figures], float | None]]] = [
        ("accepted (jobs/s)", lambda f: f.accepted_per_s),
        ("POST /v1/print-jobs p50 (ms)", lambda f: f.p50_ms),
        ("POST /v1/print-jobs p99 (ms)", lambda f: f.p99_ms),
        ("printed, fast sim printer (jobs/s)", lambda f: f.printed_per_s),
        ("idle RSS (MiB)", lambda f: f.idle_rss_mib),
        ("start-up, exec → API ready (s)", lambda f: f.startup_s),
    ]
    for label, key in rows:
        print(f"{label:34}{median(daemon, key)}  {median(base, key)}")
    base_name = "bare aiohttp + 1 durable SQLite commit per request"
    emit([Row(f"print jobs accepted, {clients} clients", _med(daemon, rows[0][1]), "jobs/s",
              base_name, _med(base, rows[0][1])),
          Row("POST /v1/print-jobs p50", _med(daemon, rows[1][1]), "ms", f"{base_name}, p50",
              _med(base, rows[1][1]), better="lower"),
          Row("POST /v1/print-jobs p99", _med(daemon, rows[2][1]), "ms", f"{base_name}, p99",
              _med(base, rows[2][1]), better="lower"),
          Row("print jobs printed, fast simulated printer", _med(daemon, rows[3][1]), "jobs/s",
              base_name + " (accepted)", _med(base, rows[0][1])),
          Row("box daemon idle RSS", _med(daemon, rows[4][1]), "MiB",
              "bare aiohttp process idle RSS", _med(base, rows[4][1]), better="lower"),
          Row("box daemon start-up, exec → API ready", _med(daemon, rows[5][1]), "s",
              "bare aiohttp process start-up", _med(base, rows[5][1]), better="lower")],
         as_json)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline-server", nargs=2, metavar=("PORT", "DB"))
    add_json_flag(ap)
    args = ap.parse_args()
    if args.baseline_server:
        baseline_server(int(args.baseline_server[0]), Path(args.baseline_server[1]))
    else:
        asyncio.run(main(args.jobs, args.clients, args.runs, args.json))
