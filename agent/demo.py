"""`storelink demo`: simulated printers, the real daemon, and a scripted morning of print jobs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from agent.devices.scan_demo import run_scan_demo, scanner_toml
from drivers.escpos.render import render_bytes
from drivers.label import ParsedLabel, render_label
from drivers.profiles import PrinterProfile, get_profile
from drivers.sim.control import LabelRecorder
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.scanner import SerialScannerSim
from drivers.sim.shells import PtyShell, TcpShell

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "jobs"
WAREHOUSE_PROFILE = replace(get_profile("generic-cn-58"), name="warehouse-58", cut=True,
                            description="58 mm with a cutter")


def _say(text: str) -> None:
    print(text, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Paper:
    """Saves every job a simulated printer finishes as PNG + raw bytes, and counts them."""

    def __init__(self, name: str, profile: PrinterProfile, out: Path) -> None:
        self.name = name
        self.profile = profile
        self.dir = out / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.lock = threading.Lock()

    def __call__(self, number: int, job: SimJob) -> None:
        stem = self.dir / f"job-{number:04d}{'' if job.printed else '-dropped'}"
        stem.with_suffix(".bin").write_bytes(job.data)
        png = stem.with_suffix(".png")
        render_bytes(job.data, self.profile).save(png)
        with self.lock:
            self.files.append(png)


class _Labels:
    """Saves every label a simulated label printer finishes as PNG."""

    def __init__(self, name: str, out: Path) -> None:
        self.dir = out / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.lock = threading.Lock()

    def __call__(self, number: int, label: ParsedLabel, printed: bool, data: bytes) -> None:
        png = self.dir / f"label-{number:04d}{'' if printed else '-dropped'}.png"
        render_label(label).save(png)
        with self.lock:
            self.files.append(png)


class _Api:
    """A tiny blocking client of the box's local API."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: object | None = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def wait_state(self, job_id: str, states: set[str], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        state = "?"
        while time.monotonic() < deadline:
            _, body = self.call("GET", f"/v1/print-jobs/{job_id}")
            state = str(body.get("state")) if isinstance(body, dict) else "?"
            if state in states:
                return state
            time.sleep(0.1)
        return state


def _config(out: Path, api_port: int, tcp_port: int, serial_dev: str, label_port: int) -> Path:
    path = out / "storelink.toml"
    path.write_text(f"""# written by `storelink demo`
[box]
id = "CQ-JB-001-B1"
store = "CQ-JB-001"
name = "重庆江北建材旗舰店"
state_dir = "{out / 'state'}"

[api]
listen = "127.0.0.1"
port = {api_port}

[queue]
poll_interval_s = 0.5

[[printers]]
id = "front"
name = "前台小票机 (TCP)"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {tcp_port}

[[printers]]
id = "warehouse"
name = "仓库打印机 (串口)"
profile = "{WAREHOUSE_PROFILE.name}"
transport = "serial"
device = "{serial_dev}"
baudrate = 115200

[[printers]]
id = "workshop"
name = "车间标签机 (TSPL)"
profile = "tspl-203"
transport = "tcp"
host = "127.0.0.1"
port = {label_port}

[profiles.{WAREHOUSE_PROFILE.name}]
base = "generic-cn-58"
description = "{WAREHOUSE_PROFILE.description}"
cut = true
""", encoding="utf-8")
    return path


def _start_daemon(config: Path, log: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "agent", "agent", "run", "--config",
                             str(config)], stdout=subprocess.PIPE, stderr=log.open("w"),
                            text=True, cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        raise SystemExit(f"the daemon did not start; see {log}")
    return proc


def _job(name: str, **over: object) -> dict[str, object]:
    job: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    job.update(over)
    return job


def _script(api: _Api, warehouse: SimEscposPrinter, say: Callable[[str], None]) -> list[str]:
    ids = []
    say("\n— 09:00 收银台: a receipt to the front printer (TCP 9100 simulator)")
    receipt = _job("receipt")
    status, body = api.call("POST", "/v1/print-jobs", receipt)
    say(f"  POST /v1/print-jobs {receipt['id']} → {status} {_state(body)}")
    ids.append(str(receipt["id"]))
    status, body = api.call("POST", "/v1/print-jobs", receipt)
    say(f"  the POS retries the same job id → {status} {_state(body)} (printed once, not twice)")

    say("\n— 09:05 仓库: the warehouse printer (serial pty) runs out of paper")
    warehouse.state = "paper_out"
    for name in ("sales_slip", "picking_list"):
        job = _job(name)
        status, body = api.call("POST", "/v1/print-jobs", job)
        say(f"  POST {job['id']} → {status} {_state(body)}")
        ids.append(str(job["id"]))
    time.sleep(1.5)
    _, body = api.call("GET", "/v1/printers/warehouse")
    say(f"  printer warehouse: {_state(body)} — its jobs wait in the queue, nothing is lost")
    say("  … paper loaded")
    warehouse.state = "ok"
    for job_id in ids:
        say(f"  {job_id}: {api.wait_state(job_id, DONE)}")

    say("\n— 10:30 车间: flow cards and labels on the TSPL label printer")
    for name in ("flow_card", "price_label", "shipping_label"):
        job = _job(name)
        status, body = api.call("POST", "/v1/print-jobs", job)
        say(f"  POST {job['id']} ({job['template']}) → {status} {_state(body)}")
        ids.append(str(job["id"]))
    for job_id in ids[-3:]:
        say(f"  {job_id}: {api.wait_state(job_id, DONE)}")
    return ids


DONE = {"printed", "failed", "unknown", "expired"}


def _state(body: object) -> str:
    if isinstance(body, dict):
        return str(body.get("state", body.get("error", "")))
    return ""


def run_demo(out: Path, *, keep_running: bool = True) -> int:
    """Run the scripted demo into `out`; with keep_running, serve until Ctrl-C."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    (out / "state").mkdir(parents=True)
    front_paper = _Paper("front", get_profile("generic-cn-80"), out)
    wh_paper = _Paper("warehouse", WAREHOUSE_PROFILE, out)
    front = SimEscposPrinter(front_paper.profile, on_job=front_paper)
    warehouse = SimEscposPrinter(wh_paper.profile, on_job=wh_paper)
    labels = _Labels("workshop", out)
    workshop = LabelRecorder(SimTsplPrinter(), labels)
    with (TcpShell(front) as tcp, PtyShell(warehouse) as pty, TcpShell(workshop) as lbl,
          SerialScannerSim() as scanner):
        api_port = _free_port()
        config = _config(out, api_port, tcp.port, pty.device_path, lbl.port)
        config.write_text(config.read_text(encoding="utf-8") + scanner_toml(scanner.port),
                          encoding="utf-8")
        _say(f"simulated printers: front on tcp://127.0.0.1:{tcp.port}, "
             f"warehouse on serial {pty.device_path}, "
             f"workshop (TSPL labels) on tcp://127.0.0.1:{lbl.port}")
        daemon = _start_daemon(config, out / "agent.log")
        url = f"http://127.0.0.1:{api_port}"
        try:
            _say(f"box daemon ready: {url}/  (config {config})")
            _script(_Api(url), warehouse, _say)
            _say("\n— 11:00 收银台: the barcode scanner (serial pty) scans")
            run_scan_demo(url, scanner, _say)
            time.sleep(0.5)
            _say("\nwhat came out of the printers (rendered from the exact bytes received):")
            for files in (front_paper.files, wh_paper.files, labels.files):
                for f in files:
                    _say(f"  {f}")
            _say(f"\nstatus page (状态页): {url}/")
            if keep_running:
                _say("press Ctrl-C to stop")
                signal.sigwait({signal.SIGINT, signal.SIGTERM})
        except KeyboardInterrupt:
            pass
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
    return 0 if os.environ.get("STORELINK_DEMO_FAIL") is None else 1
