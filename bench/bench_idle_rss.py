"""Idle memory and start-up time of the box daemon: `storelink agent run` left idle, its VmRSS
read from /proc, with two configurations:

- `printer`: one TCP receipt printer; the journal (on by default), discovery and mDNS
  advertisement as shipped (bench_queue.py's idle configuration: 66.8 MiB when issue 13 was
  filed);
- `shop`: the same with `[sync]` to a real mosquitto (a box in a shop, linked to HQ).

Beside it, in the same run, a baseline: a bare Python process that imports aiohttp and serves
one aiohttp route (the least any Python HTTP daemon of this kind pays). Each figure is the
median of --runs starts (a fresh state directory each time).

    .venv/bin/python bench/bench_idle_rss.py [--runs 5] [--idle 12] [--limit-mib 60] [--check]

With --check, exit code 1 when the `printer` daemon's median idle RSS is at or above
--limit-mib (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding,
    PublicFormat,
)

from bench.rows import Row, add_json_flag, emit  # noqa: E402
from drivers.profiles import get_profile  # noqa: E402
from drivers.sim.printer import SimEscposPrinter  # noqa: E402
from drivers.sim.shells import TcpShell  # noqa: E402
from tests.e2e.broker import Broker, free_port  # noqa: E402

READY = re.compile(r"ready on http://")
BASELINE = ("import asyncio, sys\n"
            "from aiohttp import web\n"
            "async def ok(r): return web.json_response({'ok': True})\n"
            "app = web.Application(); app.router.add_get('/v1/health', ok)\n"
            "print('baseline ready on http://127.0.0.1:' + sys.argv[1], flush=True)\n"
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)\n")


@dataclass
class Sample:
    """One start: seconds until the ready line, VmRSS after idling (MiB)."""

    start_s: float
    rss_mib: float


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def box_config(tmp: Path, printer_port: int, broker_port: int, hq_pubkey: str,
               shop: bool) -> Path:
    """A box with a receipt printer on TCP and the journal, and with `shop` `[sync]` to HQ's
    broker; the rest as shipped (discovery of USB, serial and network printers, mDNS
    advertisement)."""
    cfg = tmp / "box.toml"
    cfg.write_text(f"""
[box]
id = "CQ-JB-001-B1"
store = "CQ-JB-001"
name = "重庆江北建材旗舰店 前台"
state_dir = "{tmp}/state"

[api]
port = {free_port()}

[[printers]]
id = "front"
name = "前台小票机"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {printer_port}
""" + (f"""
[journal]
enabled = true

[sync]
host = "127.0.0.1"
port = {broker_port}
hq_pubkey = "{hq_pubkey}"
""" if shop else ""), encoding="utf-8")
    return cfg


def measure(cmd: list[str], idle_s: float) -> Sample:
    """Start `cmd`, wait for its ready line, idle, read its RSS, stop it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not READY.search(line):
            raise RuntimeError(f"{cmd} did not start: {line!r}")
        started = time.perf_counter() - t0
        time.sleep(idle_s)
        return Sample(started, rss_kib(proc.pid) / 1024)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(runs: int, idle_s: float, limit_mib: float, check: bool, as_json: bool = False) -> int:
    key = Ed25519PrivateKey.generate().public_key()
    hq_pubkey = base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
    daemon: dict[str, list[Sample]] = {"printer": [], "shop": []}
    base: list[Sample] = []
    model = SimEscposPrinter(get_profile("generic-cn-80"))
    with tempfile.TemporaryDirectory() as broker_dir, TcpShell(model) as shell:
        broker = Broker(Path(broker_dir))
        broker.start()
        try:
            for _ in range(runs):
                base.append(measure([sys.executable, "-c", BASELINE, str(free_port())], idle_s))
                for kind, samples in daemon.items():
                    with tempfile.TemporaryDirectory() as tmp:
                        cfg = box_config(Path(tmp), shell.port, broker.port, hq_pubkey,
                                         kind == "shop")
                        samples.append(measure([sys.executable, "-m", "agent", "agent", "run",
                                                "--config", str(cfg)], idle_s))
        finally:
            broker.stop()
    def med(samples: list[Sample], rss: bool) -> float:
        return statistics.median(s.rss_mib if rss else s.start_s for s in samples)

    printer, shop = daemon["printer"], daemon["shop"]
    print(f"idle box daemon: median of {runs} starts, {idle_s:.0f} s idle "
          f"({os.cpu_count()} CPUs, {os.uname().machine})")
    print(f"{'':24}{'printer':>9}  {'shop':>9}  {'baseline':>9}")
    print(f"{'idle RSS (MiB)':24}{med(printer, True):9.1f}  {med(shop, True):9.1f}  "
          f"{med(base, True):9.1f}")
    print(f"{'start to ready (s)':24}{med(printer, False):9.2f}  {med(shop, False):9.2f}  "
          f"{med(base, False):9.2f}")
    ok = med(printer, True) < limit_mib
    print(f"printer idle RSS < {limit_mib:.0f} MiB: {'yes' if ok else 'NO'}")
    bare_rss, bare_start = "bare aiohttp process idle RSS", "bare aiohttp process start to ready"
    emit([Row(f"box daemon idle RSS, {kind}", med(samples, True), "MiB", bare_rss,
              med(base, True), better="lower", note=f"median of {runs} starts")
          for kind, samples in daemon.items()]
         + [Row(f"box daemon start to ready, {kind}", med(samples, False), "s", bare_start,
                med(base, False), better="lower") for kind, samples in daemon.items()],
         as_json)
    return 0 if ok or not check else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=float, default=12.0,
                    help="seconds idle before reading (the daemon trims its heap 10 s after READY)")
    ap.add_argument("--limit-mib", type=float, default=60.0)
    ap.add_argument("--check", action="store_true")
    add_json_flag(ap)
    args = ap.parse_args()
    raise SystemExit(main(args.runs, args.idle, args.limit_mib, args.check, args.json))
