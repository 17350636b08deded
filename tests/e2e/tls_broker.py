"""mosquitto running the shipped systemd/ configuration (TLS, certificates, ACL, CRL) with its
files and port moved under a test directory, and a PKI made by `hq.pki` (HQ's own CA code)."""

from __future__ import annotations

import datetime
import getpass
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hq.pki.ca_dir import CaDir
from tests.e2e.broker import MOSQUITTO, free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "systemd" / "mosquitto-storelink.conf"
SHIPPED_ACL = ROOT / "systemd" / "mosquitto-storelink.acl"


class TlsBroker:
    """The shipped broker configuration on 127.0.0.1:`port`, serving certificates of `ca`."""

    def __init__(self, workdir: Path, ca: CaDir) -> None:
        self.workdir = workdir
        self.ca = ca
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        acl = workdir / "storelink.acl"
        acl.write_text(SHIPPED_ACL.read_text(encoding="utf-8"), encoding="utf-8")
        server_cert, server_key = ca.issue_server(["127.0.0.1", "localhost"],
                                                  datetime.datetime.now(datetime.UTC), 30)
        moved = {"cafile": ca.cert_file, "certfile": server_cert, "keyfile": server_key,
                 "crlfile": ca.crl_file, "acl_file": acl, "persistence_location": f"{workdir}/"}
        # Running as root, mosquitto would drop to user `mosquitto`, which cannot read here.
        lines = [f"user {getpass.getuser()}", f"log_dest file {workdir}/mosquitto.log",
                 "log_type all"]
        for shipped in SHIPPED.read_text(encoding="utf-8").splitlines():
            key = shipped.split(" ", 1)[0]
            if key == "listener":
                lines.append(f"listener {self.port} 127.0.0.1")
            elif key in moved:
                lines.append(f"{key} {moved[key]}")
            else:
                lines.append(shipped)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> TlsBroker:
        """Start and wait until the port accepts connections."""
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: " + self.log()[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.05)
        return self

    def reload(self, timeout: float = 30.0) -> None:
        """SIGHUP (`systemctl reload mosquitto`): re-read the ACL, certificates and CRL."""
        assert self.proc is not None
        before = self.log().count("Reloading config")
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self.log().count("Reloading config") <= before:
            assert time.monotonic() < deadline, "mosquitto did not reload"
            time.sleep(0.05)

    def log(self) -> str:
        """The broker's log so far."""
        p = self.workdir / "mosquitto.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    """HQ's CA (with `hq-1`'s certificate) and the shipped broker configuration, started."""
    ca = CaDir(tmp_path / "pki")
    ca.init("Storelink HQ CA", datetime.datetime.now(datetime.UTC), 30)
    ca.issue_client("hq-1", datetime.datetime.now(datetime.UTC), 30)
    b = TlsBroker(tmp_path / "broker", ca).start()
    try:
        yield b
    finally:
        b.stop()
