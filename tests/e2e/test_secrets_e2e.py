"""Secrets never leave where they are kept: a real run of `storelink agent run` and
`storelink hq run` (broker with passwords, API tokens, supervisors' PIN and badge hashes, the
journal and HQ keys) is searched for every form of every secret in the logs of both, every
message on the broker (births, telemetry, journal, events), the status page and the read-only
API answers, /metrics, and both `storelink doctor` outputs."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from agent.journal.keys import load_key
from agent.sales.approvals import hash_secret
from tests.e2e.broker import env_with_root
from tests.e2e.daemon_world import BOX, DaemonWorld, fetch, sale_request
from tests.e2e.procs import Proc
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)
BOX_TOKEN = "Sx4nVq8Lr2TzW7kPc9Hm3Jd6"
HQ_TOKEN = "Hb7Qw2Ez5Rt8Yu3Io6Pa9Sd4"
BOX_PASSWORD = "mq-box-Pw7Rk2Lx9Vn4"
HQ_PASSWORD = "mq-hq-Zc3Tq8Wm5Ny1"
WATCH_PASSWORD = "mq-watch-Jf6Ug2Kb8"
PIN = "864213"
BADGE = "SUPERVISOR-BADGE-7F3A9C"
PIN_HASH = hash_secret(PIN)
BADGE_HASH = hash_secret(BADGE)


def forms(secret: bytes) -> list[str]:
    """How a secret could leak as text: hex, base64 (standard and URL-safe, unpadded)."""
    b64 = base64.b64encode(secret).decode()
    return [secret.hex(), b64.rstrip("="), base64.urlsafe_b64encode(secret).decode().rstrip("=")]


def pem_body(path: Path) -> list[str]:
    """The base64 lines of a PEM key file."""
    return [line for line in path.read_text().splitlines() if line and "-----" not in line]


def hash_parts(stored: str) -> list[str]:
    """A stored scrypt hash, its salt and its digest."""
    parts = stored.split("$")
    return [stored, parts[-2], parts[-1]]


class SecretWorld(DaemonWorld):
    """Passwords on the broker, tokens on both APIs, supervisors with PIN and badge hashes."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, users={BOX: BOX_PASSWORD, "hq-1": HQ_PASSWORD,
                                      "watch": WATCH_PASSWORD})
        self.hq.stop()
        hq = self.hq_config.read_text(encoding="utf-8")
        self.hq_config.write_text(
            hq.replace("[api]\n", f'[api]\ntoken = "{HQ_TOKEN}"\n', 1)
            .replace("[mqtt]\n", f'[mqtt]\nusername = "hq-1"\npassword = "{HQ_PASSWORD}"\n', 1),
            encoding="utf-8")
        self.hq = Proc(["-m", "agent", "hq", "run", "--config", str(self.hq_config)],
                       self.hq_config.parent / "hq.log").start()
        box = self.box_config.read_text(encoding="utf-8")
        self.box_config.write_text(
            box.replace("[api]\n", f'[api]\ntoken = "{BOX_TOKEN}"\n', 1)
            .replace("[sync]\n", f'[sync]\nusername = "{BOX}"\npassword = "{BOX_PASSWORD}"\n',
                     1)
            + f"""
[[journal.supervisors]]
id = "M001"
name = "刘强"
pin_hash = "{PIN_HASH}"
badge_hash = "{BADGE_HASH}"
""", encoding="utf-8")

    def secrets(self) -> dict[str, list[str]]:
        """Every secret of this world, in every form searched for."""
        box_seed = load_key(self.box_key).private_bytes_raw()
        hq_key = self.hq_config.parent / "hq.key"
        hq_seed = load_key(hq_key).private_bytes_raw()
        return {"box api token": [BOX_TOKEN], "hq api token": [HQ_TOKEN],
               "box mqtt password": [BOX_PASSWORD], "hq mqtt password": [HQ_PASSWORD],
               "pin hash": hash_parts(PIN_HASH), "badge hash": hash_parts(BADGE_HASH),
               "badge": [BADGE], "box journal key": forms(box_seed),
               "hq key": forms(hq_seed),
               "box journal key file": pem_body(self.box_key), "hq key file": pem_body(hq_key)}


class Watcher:
    """Every message on the broker, read by a client of its own."""

    def __init__(self, port: int) -> None:
        self.payloads: list[bytes] = []
        self.topics: set[str] = set()
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="secrets-watch")
        self.client.username_pw_set("watch", WATCH_PASSWORD)
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.payloads.append(bytes(msg.payload))
            self.topics.add(msg.topic)

    def text(self) -> str:
        with self._lock:
            return "\n".join(p.decode("utf-8", errors="replace") for p in self.payloads)

    def saw(self, leaf: str) -> bool:
        with self._lock:
            return any(t.endswith("/" + leaf) for t in self.topics)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[SecretWorld]:
    with SecretWorld(tmp_path) as w:
        yield w


def run(*args: str) -> str:
    """A `storelink` command's stdout and stderr, whatever its exit code."""
    done = subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True,
                          text=True, env=env_with_root(), timeout=120, check=False)
    return done.stdout + done.stderr


def test_no_secret_in_logs_messages_pages_metrics_or_doctor(world: SecretWorld) -> None:
    w = world
    watch = Watcher(w.broker.port)
    try:
        w.start_box()
        assert w.box is not None
        box_auth = {"Authorization": f"Bearer {BOX_TOKEN}"}
        hq_auth = {"Authorization": f"Bearer {HQ_TOKEN}"}
        wait_for(lambda: watch.saw("telemetry") and watch.saw("birth"),
                 what="birth and telemetry on the broker")
        status, answer = w.box_api("POST", "/v1/sales", sale_request(1), headers=box_auth)
        assert status == 201, (status, answer)
        # A wrong PIN and a wrong badge: refusals are logged and journaled, secrets are not.
        for approval in ({"supervisor": "M001", "pin": "000000"},
                         {"badge": "SUPERVISOR-BADGE-WRONG"}):
            status, answer = w.box_api("POST", "/v1/day-reopen", {
                "reason": "漏录一笔现金销售", "clerk": "C001", "approval": approval},
                headers=box_auth)
            assert status in (403, 409, 429), (status, answer)
        wait_for(lambda: watch.saw("journal"),
                 what="journal upload on the broker")

        seen: dict[str, str] = {"broker messages": ""}
        for path in ("/", "/v1/health", "/v1/printers", "/v1/devices", "/metrics",
                     "/v1/journal/head", "/v1/journal?from=0", "/v1/print-jobs"):
            status, text = fetch(w.box.url, "GET", path, headers=box_auth)
            assert status == 200, (path, status, text)
            seen[f"box GET {path}"] = text
        for path in ("/", f"/v1/boxes/{BOX}", "/v1/boxes", "/v1/alarms", "/metrics",
                     f"/v1/boxes/{BOX}/journal"):
            status, text = fetch(w.hq.url, "GET", path, headers=hq_auth)
            assert status == 200, (path, status, text)
            seen[f"hq GET {path}"] = text
        seen["box doctor"] = run("doctor", "--config", str(w.box_config))
        seen["hq doctor"] = run("hq", "doctor", "--config", str(w.hq_config))
        assert "✓" in seen["box doctor"] and "✓" in seen["hq doctor"]
        seen["broker messages"] = watch.text()
        assert w.box.stop() == 0
        assert w.hq.stop() == 0
        seen["box log"] = w.box.log_text()
        seen["hq log"] = w.hq.log_text()
        assert "HQ 链路已连接" in seen["box log"], seen["box log"][-2000:]
    finally:
        watch.close()

    leaks = [f"{name} in {where}"
             for name, values in w.secrets().items() for value in values
             for where, text in seen.items() if value and value in text]
    assert leaks == []
    # The search itself finds what it looks for.
    assert BOX_TOKEN in json.dumps({"token": BOX_TOKEN})
