"""Type=notify and the watchdog against the real daemon process: READY=1 once the API listens
and the journal is open; WATCHDOG=1 keeps coming; it stops while a printer worker is stuck in a
write to a printer that stopped reading, and comes back when the printer reads again."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.daemon import running
from agent.health.systemd import announce_ready, notify, stop_watchdog, watchdog_period_s
from tests.agent.conftest import SimFactory, box_config, eventually, free_port
from tests.agent.health.stalling_printer import StallingPrinter
from tests.e2e.broker import env_with_root
from tests.e2e.notify_socket import NotifySocket
from tests.e2e.world import front_printer, store_box

PERIOD_US = 400_000  # WatchdogSec=0.4 s: fed every 0.2 s


def api_listens(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=5) as r:
            return bool(json.loads(r.read())["box"]["id"] == "CQ-JB-001-B1")
    except urllib.error.HTTPError as e:  # 503 when degraded is configured: still listening
        return e.code == 503
    except OSError:
        return False


def post_job(port: int, body: dict[str, object]) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/print-jobs",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return int(r.status)


def write_config(tmp_path: Path, printer_port: int, api_port: int) -> Path:
    path = tmp_path / "storelink.toml"
    path.write_text(store_box(tmp_path / "state") + f"""
[api]
port = {api_port}

[queue]
poll_interval_s = 0.2
backoff_max_s = 1.0

[health]
stall_s = 1.0
""" + front_printer(printer_port) + "write_timeout = 600.0\n", encoding="utf-8")
    return path


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    s = NotifySocket()
    yield s
    s.close()


def test_ready_after_the_api_listens_and_a_stuck_printer_stops_the_watchdog(
        tmp_path: Path, notify_socket: NotifySocket) -> None:
    printer = StallingPrinter()
    api_port = free_port()
    env = env_with_root() | {"NOTIFY_SOCKET": notify_socket.path, "WATCHDOG_USEC": str(PERIOD_US)}
    env.pop("JOURNAL_STREAM", None)
    log = (tmp_path / "daemon.log").open("w+", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "agent", "agent", "run", "--config",
                             str(write_config(tmp_path, printer.port, api_port))],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        first = notify_socket.next(60)
        assert first.startswith("READY=1\n"), first
        assert api_listens(api_port)  # READY came after the API listened
        assert "journal at seq 0" in first  # and after the journal opened (its genesis)
        fed = [notify_socket.next() for _ in range(5)]
        assert fed == ["WATCHDOG=1"] * 5

        # A 4 MiB job into a printer that stopped reading: the worker's write blocks.
        assert post_job(api_port, {"id": "stuck-1", "printer": "front",
                                   "raw": base64.b64encode(b"A" * (4 << 20)).decode()}) == 202
        assert printer.stalled.wait(60)
        deadline = time.monotonic() + 60
        while "看门狗停止喂狗 / watchdog not fed: printer front: device call stuck" \
                not in Path(log.name).read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, Path(log.name).read_text(encoding="utf-8")
            time.sleep(0.05)
        notify_socket.drain()
        # The loop still runs (the API answers) yet nothing feeds the watchdog.
        assert api_listens(api_port)
        with pytest.raises(queue.Empty):
            notify_socket.next(wait_s=10 * PERIOD_US / 1e6)

        printer.release()
        assert notify_socket.next(60) == "WATCHDOG=1"
        proc.terminate()
        assert proc.wait(30) == 0
        assert "STOPPING=1" in notify_socket.drain()
        text = Path(log.name).read_text(encoding="utf-8")
        assert "看门狗恢复 / watchdog fed again" in text
        assert "销售日志已打开 / journal opened at seq 0" in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        printer.close()
        log.close()


async def test_a_blocked_event_loop_feeds_nothing(tmp_path: Path, sim_printer: SimFactory,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sock_dir = tempfile.mkdtemp(prefix="sl-notify-")
    path = os.path.join(sock_dir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", str(PERIOD_US))
    monkeypatch.delenv("WATCHDOG_PID", raising=False)

    def pending() -> list[bytes]:
        out = []
        with contextlib.suppress(BlockingIOError):
            while True:
                out.append(sock.recv(4096))  # a datagram is queued here when sent
        return out

    _, shell = sim_printer()
    try:
        async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
            task = announce_ready(ctx, "http://127.0.0.1:8470")
            await eventually(lambda: pending().count(b"WATCHDOG=1") > 0, what="fed")
            pending()
            time.sleep(10 * PERIOD_US / 1e6)  # noqa: ASYNC251 -- blocking the loop is the test
            assert pending() == []
            await eventually(lambda: b"WATCHDOG=1" in pending(), what="fed again")
            await stop_watchdog(task)
            assert pending() == [b"STOPPING=1"]
    finally:
        sock.close()
        shutil.rmtree(sock_dir, ignore_errors=True)


def test_notify_without_a_service_manager_is_a_no_op() -> None:
    assert notify("READY=1", {}) is False
    assert watchdog_period_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_period_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_period_s({}) is None
