"""Smoke test of an installed box (`make test-arm64` runs it inside the arm64 root): a
simulated receipt printer, `storelink agent run` as the service user, one sale journaled and
its receipt printed, the journal verified, the idle RSS read. Prints one JSON line; exit 1 on
any failure. Run with the installed release's Python:

  /opt/storelink/current/bin/python box_smoke.py [--user storelink] [--idle-s 20]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.shells import TcpShell

CONFIG = Path("/etc/storelink/storelink.toml")
STATE = Path("/var/lib/storelink")
BIN = Path("/opt/storelink/current/bin/storelink")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(api_port: int, printer_port: int) -> str:
    """The box's configuration: one receipt printer, the journal on, no host devices."""
    return f"""
[box]
id = "CQ-JB-001-B1"
store = "CQ-JB-001"
name = "重庆江北建材旗舰店"
state_dir = "{STATE}"

[api]
listen = "127.0.0.1"
port = {api_port}

[[printers]]
id = "front"
name = "前台小票机"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {printer_port}

[discovery]
usb = false
serial = false
uevents = false
zeroconf = false
advertise = false

[journal]
enabled = true
receipt_printer = "front"
"""


def wait_for(what: str, ok: object, timeout_s: float) -> None:
    """Poll `ok()` until true; RuntimeError naming `what` after `timeout_s`."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if ok():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def main() -> int:
    """Run the smoke test; print its result as one JSON line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", default="storelink")
    ap.add_argument("--idle-s", type=float, default=20.0)
    ap.add_argument("--timeout-s", type=float, default=600.0)
    args = ap.parse_args()
    jobs: list[SimJob] = []
    shell = TcpShell(SimEscposPrinter(get_profile("generic-cn-80"),
                                      on_job=lambda _n, j: jobs.append(j)), port=free_port())
    shell.start()
    api = free_port()
    CONFIG.write_text(config(api, shell.port), encoding="utf-8")
    log = open("/var/tmp/storelink-smoke.log", "wb")  # noqa: SIM115
    cmd = ["runuser", "-u", args.user, "--", str(BIN), "agent", "run", "--config", str(CONFIG)]
    t0 = time.monotonic()
    daemon = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    result: dict[str, object] = {"arch": os.uname().machine}
    try:
        base = f"http://127.0.0.1:{api}"

        def up() -> bool:
            try:
                with urllib.request.urlopen(base + "/v1/health", timeout=5) as r:
                    return bool(r.status in (200, 503))
            except OSError:
                return False

        wait_for("the daemon's API", up, args.timeout_s)
        result["start_s"] = round(time.monotonic() - t0, 1)
        sale = {"order": "XS-ARM64-000001", "clerk": "C001", "till": "T1",
                "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 2,
                           "unit_price": 850}],
                "payments": [{"method": "wechat", "amount": 1700}], "print": {}}
        req = urllib.request.Request(base + "/v1/sales", json.dumps(sale).encode(),
                                     {"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            result["sale_status"] = r.status
            result["sale"] = json.loads(r.read()).get("seq")
        wait_for("the receipt", lambda: any(j.printed for j in jobs), 300)
        result["receipt_bytes"] = max(len(j.data) for j in jobs if j.printed)
        time.sleep(args.idle_s)
        pid = _daemon_pid(daemon.pid)
        status = Path(f"/proc/{pid}/status").read_text()
        rss_kb = int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        result["idle_rss_mib"] = round(rss_kb / 1024, 1)
    finally:
        # SIGTERM to the daemon itself (as systemd sends it); runuser then exits with its code.
        with contextlib.suppress(OSError):
            os.kill(_daemon_pid(daemon.pid), signal.SIGTERM)
        result["exit"] = daemon.wait(timeout=120)
        shell.stop()
    bare = baseline_rss(args.idle_s)
    result["baseline_aiohttp_rss_mib"] = bare
    result["agent_over_baseline_mib"] = round(rss_kb / 1024 - bare, 1)
    v = subprocess.run([str(BIN), "journal", "verify", str(STATE / "journal.db")],
                       capture_output=True, text=True, timeout=args.timeout_s, check=False)
    result["verify"] = (v.stdout.strip().splitlines() or [""])[0]
    result["ok"] = v.returncode == 0 and result.get("sale_status") == 201
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["ok"] else 1


BASELINE = ("import sys\n"
            "from aiohttp import web\n"
            "async def ok(r): return web.json_response({'ok': True})\n"
            "app = web.Application(); app.router.add_get('/v1/health', ok)\n"
            "print('baseline ready', flush=True)\n"
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[1]), print=None)\n")
"""bench/bench_idle_rss.py's baseline: a bare Python process serving one aiohttp route."""


def baseline_rss(idle_s: float) -> float:
    """VmRSS (MiB) of the baseline run by the release's own Python after idling `idle_s`: under
    qemu-user both figures carry the emulator's cost, so their difference is the agent's own."""
    python = BIN.parent / "python3"
    proc = subprocess.Popen([str(python), "-c", BASELINE, str(free_port())],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if "ready" not in proc.stdout.readline():
            raise RuntimeError("the baseline did not start")
        time.sleep(idle_s)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        kb = int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        return round(kb / 1024, 1)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _daemon_pid(runuser_pid: int) -> int:
    """The daemon's pid: runuser's child (runuser itself waits for it)."""
    children = Path(f"/proc/{runuser_pid}/task/{runuser_pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else runuser_pid


if __name__ == "__main__":
    sys.exit(main())
