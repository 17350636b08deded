"""A real mosquitto broker for tests: its own config, port and persistence directory."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    """True if something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    """mosquitto on 127.0.0.1:`port` with `persistence true` in `workdir`; restartable."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None,
                 acl: str | None = None, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        # Running as root, mosquitto would drop to user `mosquitto`, which cannot write here.
        lines = [f"user {getpass.getuser()}", f"listener {self.port} 127.0.0.1", "persistence true",
                 f"persistence_location {workdir}/", "autosave_interval 1",
                 "max_queued_messages 100000", "max_inflight_messages 100",
                 "set_tcp_nodelay true",
                 f"log_dest file {workdir}/mosquitto.log", "log_type all"]
        if users is None:
            lines.append("allow_anonymous true")
        else:
            pw = workdir / "passwd"
            pw.write_text("")
            for name, password in users.items():
                subprocess.run([MOSQUITTO_PASSWD, "-b", str(pw), name, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        if acl is not None:
            (workdir / "acl").write_text(acl)
            lines.append(f"acl_file {workdir}/acl")
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self, timeout: float = 20.0) -> None:
        """Start the broker and wait until it accepts connections."""
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                log = (self.workdir / "mosquitto.log")
                raise RuntimeError("mosquitto exited: "
                                   + (log.read_text()[-2000:] if log.exists() else ""))
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM: the broker saves its persistence file)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop, then start on the same port with the same persistence."""
        self.stop()
        self.start()

    def log(self) -> str:
        """The broker's log so far."""
        p = self.workdir / "mosquitto.log"
        return p.read_text(errors="replace") if p.exists() else ""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """An anonymous broker for one test."""
    b = Broker(tmp_path / "broker")
    b.start()
    try:
        yield b
    finally:
        b.stop()


def env_with_root() -> dict[str, str]:
    """The environment for child processes, with the project on PYTHONPATH."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env
