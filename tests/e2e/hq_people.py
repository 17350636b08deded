"""A running HQ (`storelink hq run`) with two stores' data and a user of every role, and a
browser-like client that signs in and carries its cookie and CSRF token (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hq.fleet.registry import Registry
from hq.store import JobRow
from hq.store.sqlite import SqliteStore
from sync.journal.vectors import BOX1, HQ, HQ_NAME, build
from sync.protocol.messages import Birth, DeviceState, JournalPosition
from tests.e2e.broker import Broker, env_with_root
from tests.e2e.edge_proc import Answer, raw_http
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, batch, hq_toml, ingest_of

ADMIN_TOKEN = "Hq-Admin-Token-0123456789abcdef"
STORE_A, STORE_B = "CQ-JB-001", "CD-WH-003"
BOX_A, BOX_B = BOX, "CD-WH-003-B1"
JOB_A, JOB_B = "job-a-cq", "job-b-cd"
NOW = 1_796_000_500_000
PASSWORD = "门店密码-2026-春"
USERS = {
    "an": ("admin", []),
    "cai": ("finance", []),
    "yun": ("operations", []),
    "zhang": ("store_manager", [STORE_A]),
    "wang": ("store_manager", [STORE_B]),
    "xiao": ("salesperson", [STORE_B]),
}
"""User name → role and stores; every password is PASSWORD."""

STORES_TOML = f"""
[[stores]]
id = "{STORE_A}"
name = "重庆江北建材旗舰店"
region = "西南"
boxes = ["{BOX_A}"]

[[stores]]
id = "{STORE_B}"
name = "成都三号仓"
region = "西南"
kind = "warehouse"
boxes = ["{BOX_B}"]
"""


def fill(db: Path) -> None:
    """Two stores' data in HQ's SQLite file, written through HQ's own store and ingest: store
    A's box with the test-vector journal (settlements), a job, an alarm and a command for each
    box."""
    s = SqliteStore(db)
    try:
        chain, _ = build()
        ingest = ingest_of(s, BOX1, NOW, hq=HQ, cosigner=HQ_NAME)
        assert ingest.ingest(batch(chain, 0, len(chain.entries), BOX_A)).ack.status == "ok"
        reg = Registry(s, lambda: NOW)
        for box, name in ((BOX_A, "重庆江北建材旗舰店"), (BOX_B, "成都三号仓")):
            reg.birth(Birth(box, 1, NOW, "0.1.0", box[:9],
                            (DeviceState("front", "printer", "ok", "正常"),),
                            JournalPosition(0, 0), 30, name))
        for job_id, box in ((JOB_A, BOX_A), (JOB_B, BOX_B)):
            s.job_create(JobRow(job_id, box, "front", {"template": "receipt",
                                                       "data": {"title": "小票"}},
                                "h-" + job_id, NOW + 86_400_000_000, NOW))
        for box in (BOX_A, BOX_B):
            s.add_alarm(box, "gap", 7, f"{box} 记录缺失", {"note": "证据"}, NOW)
            s.command_create(f"nonce-{box}", box, "open_drawer", {}, NOW, NOW + 300_000)
    finally:
        s.close()


def add_user(config: Path, name: str, role: str, stores: list[str]) -> None:
    """`storelink hq user add` as an operator runs it (password on standard input)."""
    args = [sys.executable, "-m", "hq.cli", "user", "add", name, "--role", role,
            "--display", f"测试{name}", "--config", str(config), "--password-stdin"]
    for s in stores:
        args += ["--store", s]
    done = subprocess.run(args, input=PASSWORD + "\n", capture_output=True, text=True,
                          env=env_with_root(), timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@dataclass
class World:
    """The running HQ and its broker."""

    hq: Proc
    broker: Broker
    config: Path

    def stop(self) -> None:
        """Stop HQ and its broker."""
        self.hq.stop()
        self.broker.stop()


def start_world(tmp: Path) -> World:
    """Fill the store, add the users by CLI, start the broker and `storelink hq run`."""
    broker = Broker(tmp / "broker")
    broker.start()
    config = hq_toml(tmp, broker.port, extra_boxes=f'[[boxes]]\nid = "{BOX_B}"\n'
                     f'pubkeys = ["{"00" * 32}"]\n' + STORES_TOML)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("port = 0\n", f'port = 0\ntoken = "{ADMIN_TOKEN}"\n', 1),
                      encoding="utf-8")
    fill(tmp / "hq.db")
    for name, (role, stores) in USERS.items():
        add_user(config, name, role, stores)
    try:
        hq = hq_process(config, tmp / "hq.log").start()
    except Exception:
        broker.stop()
        raise
    return World(hq, broker, config)


def admin(port: int, method: str, path: str, body: object = None) -> Answer:
    """A call with the configured shared token."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return raw_http(port, method, path, headers=headers,
                    body=b"" if body is None else json.dumps(body).encode())


@dataclass
class Browser:
    """One signed-in browser: its session cookie and the CSRF token the page holds."""

    port: int
    cookie: str
    csrf: str
    login: Answer

    @classmethod
    def sign_in(cls, port: int, user: str, password: str = PASSWORD) -> Browser:
        """POST /login; AssertionError unless it worked."""
        a = post(port, "/login", {"user": user, "password": password})
        assert a.status == 200, a
        cookie = a.headers["set-cookie"].split(";", 1)[0]
        return cls(port, cookie, a.json()["csrf"], a)

    def get(self, path: str, **headers: str) -> Answer:
        """A GET with the cookie."""
        return raw_http(self.port, "GET", path, headers={"Cookie": self.cookie, **headers})

    def post(self, path: str, body: object, csrf: str | None = "") -> Answer:
        """A JSON POST with the cookie and (unless None) the CSRF header (default: ours)."""
        headers = {"Cookie": self.cookie, "Content-Type": "application/json",
                   "Origin": f"http://127.0.0.1:{self.port}"}
        if csrf is not None:
            headers["X-CSRF-Token"] = csrf or self.csrf
        return raw_http(self.port, "POST", path, headers=headers,
                        body=json.dumps(body, ensure_ascii=False).encode())


def post(port: int, path: str, body: object) -> Answer:
    """An anonymous JSON POST."""
    return raw_http(port, "POST", path, body=json.dumps(body, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json"})


def cloud_job(job_id: str, box: str) -> dict[str, Any]:
    """A cloud print job: a picking list in Chinese."""
    return {"box": box, "printer": "front",
            "job": {"id": job_id, "printer": "front",
                    "document": {"blocks": [{"type": "text", "text": "拣货单 三号库"}]}}}
