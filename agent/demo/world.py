"""The demo's surroundings: a real mosquitto broker and a real HQ process, on loopback only."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from agent import AgentError
from agent.demo.screenshots import stores_toml
from agent.journal.keys import write_key

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AgentError(f"{what} exited ({proc.returncode}); see {log}")
        with socket.socket() as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AgentError(f"{what} did not start on port {port}; see {log}")


class Http:
    """A tiny blocking JSON client (the demo is a script, not a service)."""

    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, body: object | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
        """Send one request; (status, decoded JSON body)."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def wait(self, path: str, ok: set[str], key: str = "state", timeout: float = 30.0) -> str:
        """Poll GET `path` until its `key` is one of `ok`; the last value seen."""
        deadline = time.monotonic() + timeout
        value = "?"
        while time.monotonic() < deadline:
            _, body = self.call("GET", path)
            value = str(body.get(key)) if isinstance(body, dict) else "?"
            if value in ok:
                return value
            time.sleep(0.2)
        return value


class World:
    """mosquitto + HQ for one demo run, under `out`; `box_key` is the box's journal key."""

    def __init__(self, out: Path, box_id: str, state_dir: Path) -> None:
        self.out = out
        self.box_id = box_id
        self.procs: list[subprocess.Popen[bytes]] = []
        self.mqtt_port = free_port()
        self.hq_port = free_port()
        # The box's journal key is made here (0600) so that HQ can register it before the box
        # first starts; the daemon finds it where it would have made it itself.
        box_key = Ed25519PrivateKey.generate()
        write_key(state_dir / "keys" / "box.key", box_key)
        self.box_pub = box_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        hq_key = Ed25519PrivateKey.generate()
        self.hq_pub = hq_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.hq_dir = out / "hq"
        self.hq_dir.mkdir(parents=True, exist_ok=True)
        key_file = self.hq_dir / "hq.key"
        key_file.write_bytes(hq_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                  NoEncryption()))
        key_file.chmod(0o600)
        self.hq_api = Http(f"http://127.0.0.1:{self.hq_port}")
        self.hq_config = self.hq_dir / "hq.toml"

    @property
    def hq_url(self) -> str:
        """HQ's dashboard."""
        return f"http://127.0.0.1:{self.hq_port}/"

    def start(self) -> None:
        """Start the broker, then HQ; raise AgentError with the log path if either fails."""
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        bdir = self.out / "broker"
        bdir.mkdir(exist_ok=True)
        conf = bdir / "mosquitto.conf"
        conf.write_text(f"listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\n"
                        f"persistence true\npersistence_location {bdir}/\n"
                        "max_queued_messages 100000\nset_tcp_nodelay true\n",
                        encoding="utf-8")
        log = bdir / "mosquitto.log"
        self._spawn([mosquitto, "-c", str(conf)], log)
        _wait_port(self.mqtt_port, self.procs[-1], "mosquitto", log)
        hq_conf = self.hq_config
        hq_conf.write_text(f"""# written by `storelink demo`
[hq]
id = "hq-1"
cosigner = "storelink-hq"
key_file = "{self.hq_dir / 'hq.key'}"
db = "{self.hq_dir / 'hq.db'}"

[mqtt]
host = "127.0.0.1"
port = {self.mqtt_port}
keepalive_s = 10

[api]
listen = "127.0.0.1"
port = {self.hq_port}

[[boxes]]
id = "{self.box_id}"
pubkeys = ["{self.box_pub.hex()}"]
""" + stores_toml(self.box_id), encoding="utf-8")
        log = self.hq_dir / "hq.log"
        self._spawn([sys.executable, "-m", "agent", "hq", "run", "--config", str(hq_conf)], log)
        _wait_port(self.hq_port, self.procs[-1], "HQ", log)

    def sync_toml(self) -> str:
        """The `[sync]` table of the box's config for this broker and HQ key."""
        return (f"\n[sync]\nhost = \"127.0.0.1\"\nport = {self.mqtt_port}\nkeepalive_s = 10\n"
                f"telemetry_interval_s = 5\n"
                f"hq_pubkey = \"{base64.b64encode(self.hq_pub).decode()}\"\n")

    def _spawn(self, argv: list[str], log: Path) -> None:
        self.procs.append(subprocess.Popen(argv, stdout=log.open("wb"),
                                           stderr=subprocess.STDOUT, cwd=ROOT))

    def stop(self) -> None:
        """Stop HQ, then the broker (SIGTERM, then SIGKILL after a few seconds)."""
        for proc in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
