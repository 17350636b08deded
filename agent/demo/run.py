"""`storelink demo`: broker, HQ, the real daemon with simulated devices, and a scripted day."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from agent.demo import office, screenshots, script
from agent.demo.scans import run_scan_demo, scanner_toml
from agent.demo.shift import run_shift, stations_toml
from agent.demo.weighing import run_weighing_demo, scale_toml
from agent.demo.world import Http, World, free_port
from drivers.escpos.render import render_bytes
from drivers.label import ParsedLabel, render_label
from drivers.profiles import PrinterProfile, get_profile
from drivers.sim.control import LabelRecorder
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.scale import ScaleSim
from drivers.sim.scanner import SerialScannerSim
from drivers.sim.shells import PtyShell, TcpShell

ROOT = Path(__file__).resolve().parents[2]
BOX_ID = "CQ-JB-001-B1"
WAREHOUSE_PROFILE = replace(get_profile("generic-cn-58"), name="warehouse-58", cut=True,
                            description="58 mm with a cutter")


def _say(text: str) -> None:
    print(text, flush=True)


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


def _config(out: Path, api_port: int, tcp_port: int, serial_dev: str, label_port: int) -> Path:
    path = out / "storelink.toml"
    path.write_text(f"""# written by `storelink demo`
[box]
id = "{BOX_ID}"
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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(out: Path, *, keep_running: bool = True) -> int:
    """Run the scripted day into `out`; with keep_running, serve until Ctrl-C."""
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    state_dir = out / "state"
    state_dir.mkdir(parents=True)
    front_paper = _Paper("front", get_profile("generic-cn-80"), out)
    wh_paper = _Paper("warehouse", WAREHOUSE_PROFILE, out)
    front = SimEscposPrinter(front_paper.profile, on_job=front_paper)
    warehouse = SimEscposPrinter(wh_paper.profile, on_job=wh_paper)
    labels = _Labels("workshop", out)
    workshop = LabelRecorder(SimTsplPrinter(), labels)
    world = World(out, BOX_ID, state_dir)
    daemon: subprocess.Popen[str] | None = None
    # SIGTERM (`timeout`, a service manager, `kill`) stops the demo as Ctrl-C does: the broker,
    # HQ and the box it started are stopped too, not left running.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        world.start()
        screenshots.add_users(world.hq_config)
        _say(f"MQTT broker (mosquitto) on 127.0.0.1:{world.mqtt_port}; HQ on {world.hq_url}")
        with (TcpShell(front) as tcp, PtyShell(warehouse) as pty, TcpShell(workshop) as lbl,
              SerialScannerSim() as scanner, ScaleSim("ad-continuous", interval_s=0.1) as scale,
              SerialScannerSim() as cut, SerialScannerSim() as press):
            api_port = free_port()
            config = _config(out, api_port, tcp.port, pty.device_path, lbl.port)
            config.write_text(config.read_text(encoding="utf-8") + scanner_toml(scanner.port)
                              + scale_toml(scale.port) + stations_toml(cut.port, press.port)
                              + world.sync_toml(), encoding="utf-8")
            _say(f"simulated printers: front on tcp://127.0.0.1:{tcp.port}, warehouse on "
                 f"serial {pty.device_path}, workshop (TSPL labels) on "
                 f"tcp://127.0.0.1:{lbl.port}; scanner on serial {scanner.port}; scale "
                 f"(ST,GS,+0001.234kg) on serial {scale.port}")
            daemon = _start_daemon(config, out / "agent.log")
            url = f"http://127.0.0.1:{api_port}"
            _say(f"box daemon ready: {url}/  (config {config})")
            box = Http(url)
            office.import_orders(world.hq_config, screenshots.STORE, "sales", _say)
            script.morning(box, warehouse, _say)
            script.workshop(box, _say)
            _say("\n— 11:00 收银台: the barcode scanner (serial pty) scans")
            run_scan_demo(url, scanner, _say)
            script.sales(box, _say)
            _say("\n— 12:30 五金称重台: loose screws weighed on the serial scale, sold by weight")
            run_weighing_demo(box, scale, _say)
            script.cloud_print(world.hq_api, BOX_ID, _say)
            run_shift(box, world.hq_api, BOX_ID, cut, press, world.hq_url, _say)
            script.evening(box, world.hq_api, BOX_ID, _say)
            office.clear_day(world.hq_api, _say)
            office.alerts(world.hq_api, _say)
            time.sleep(0.5)
            _say("\nwhat came out of the printers (rendered from the exact bytes received):")
            for files in (front_paper.files, wh_paper.files, labels.files):
                for f in files:
                    _say(f"  {f}")
            _say(f"\nbox status page (门店状态页):  {url}/")
            _say(f"HQ dashboard (总部看板):       {world.hq_url}")
            _say(f"HQ workshop (车间进度与计件):   {world.hq_url}workshop")
            _say("\nHQ users (sign in at /login; password " + screenshots.PASSWORD + "): "
                 + ", ".join(f"{u.name} ({u.role})" for u in screenshots.USERS))
            _say("screenshots of every HQ page per role, 1280 px and 390 px wide:")
            shots = screenshots.take(world.hq_url, out / "screenshots", _say)
            if shots:
                _say(f"  {len(shots)} files in {out / 'screenshots'}")
            if keep_running:
                _say("press Ctrl-C to stop")
                while True:
                    signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if daemon is not None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
        world.stop()
    return 0
