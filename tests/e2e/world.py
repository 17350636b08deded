"""One test world: broker, cut-proxy, printer process, HQ process, box process — all real."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.request import Request, urlopen

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.keys import write_key
from sync.journal.record import Entry, public_bytes
from tests.e2e.broker import Broker, free_port
from tests.e2e.cutproxy import CutProxy
from tests.e2e.printer_proc import printed_ids
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, HQ_KEY, hq_toml


def box_table(state: Path, store: str = "CQ-JB-001",
              name: str | None = "重庆江北建材旗舰店") -> str:
    """The `[box]` table of box BOX (e2e: of store CQ-JB-001), its state under `state`."""
    named = f'name = "{name}"\n' if name else ""
    return f"""
[box]
id = "{BOX}"
store = "{store}"
{named}state_dir = "{state}"
"""


def store_box(state: Path) -> str:
    """The `[box]` table of the agent's own tests: box CQ-JB-001-B1, its state under `state`."""
    return box_table(state, store="重庆江北建材旗舰店", name=None)


def front_printer(port: int, connect_timeout: float = 1.0) -> str:
    """The receipt printer `front` (generic 80 mm) on TCP `port` of 127.0.0.1."""
    return f"""
[[printers]]
id = "front"
name = "前台小票机"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {port}
connect_timeout = {connect_timeout}
"""


def box_toml(state: Path, printer_port: int, poll_s: float = 0.2) -> str:
    """The part of an e2e box config both harnesses share: box, API, queue, one printer
    (its status asked every `poll_s`: short, so that tests notice a change quickly)."""
    return box_table(state) + f"""
[api]
port = {free_port()}

[queue]
poll_interval_s = {poll_s}
backoff_max_s = 1.0
default_expiry_s = 3600
""" + front_printer(printer_port)


NO_DISCOVERY = """
[discovery]                   # no host devices, no multicast: the test's world only
usb = false
serial = false
uevents = false
zeroconf = false
advertise = false
"""


def journal_lines(db: Path) -> list[str]:
    """The box's journal as export lines (read-only, while the box may be running)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT record, hash, sig FROM journal ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [Entry(r[0].encode(), bytes(r[1]), bytes(r[2])).export_line() for r in rows]


class Rig:
    """What both worlds stand on, under `root`: mosquitto behind a cut-proxy, a simulated
    printer process, the box's state folder; the world starts `hq` and `box`."""

    hq: Proc

    def __init__(self, root: Path, users: dict[str, str] | None = None,
                 acl: str | None = None, printer_raw: Path | None = None) -> None:
        """With `printer_raw`, the printer also keeps each job's bytes there (job-000N.bin)."""
        self.root = root
        self.broker = Broker(root / "broker", users, acl)
        self.broker.start()
        self.proxy = CutProxy(self.broker.port)
        self.printer_log = root / "printer.jsonl"
        raw = ["--raw", str(printer_raw)] if printer_raw is not None else []
        self.printer = Proc(["-m", "tests.e2e.printer_proc", "--log", str(self.printer_log),
                             *raw], root / "printer.err").start()
        self.state = root / "box"
        self.box: Proc | None = None

    def printed(self) -> list[str]:
        """Job ids in the order the printer finished them, once per printing."""
        return printed_ids(self.printer_log)

    def close(self) -> None:
        """Stop every process (the box first), the proxy and the broker."""
        for p in (self.box, self.hq, self.printer):
            if p is not None:
                p.stop()
        self.proxy.close()
        self.broker.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


class World(Rig):
    """Everything of one end-to-end test, under `root`."""

    def __init__(self, root: Path, keepalive: int = 5, telemetry_s: int = 2,
                 users: dict[str, str] | None = None, acl: str | None = None) -> None:
        """With `users`, the broker requires passwords: HQ logs in as `hq-1`, the box as its id."""
        super().__init__(root, users, acl)
        self.users = users
        self.box_key = Ed25519PrivateKey.generate()
        write_key(self.state / "journal.key", self.box_key)
        hq_dir = root / "hq"
        hq_dir.mkdir()
        self.hq = hq_process(hq_toml(hq_dir, self.broker.port, keepalive=keepalive,
                                     extra_boxes=""), hq_dir / "hq.log")
        # The registered key of the box is its own, not the test journals' one.
        cfg = (hq_dir / "hq.toml").read_text()
        start = cfg.index('pubkeys = ["') + len('pubkeys = ["')
        cfg = cfg[:start] + public_bytes(self.box_key).hex() + cfg[start + 64:]
        if users is not None:
            cfg = cfg.replace("[mqtt]\n", f'[mqtt]\nusername = "hq-1"\n'
                                          f'password = "{users["hq-1"]}"\n', 1)
        (hq_dir / "hq.toml").write_text(cfg)
        self.hq_db = hq_dir / "hq.db"
        self.hq.start()
        self.box_config = self.write_box_config(self.proxy.port, keepalive, telemetry_s)

    def write_box_config(self, port: int, keepalive: int, telemetry_s: int,
                         poll_s: float = 0.2) -> Path:
        pub = base64.b64encode(public_bytes(HQ_KEY)).decode()
        p = self.root / f"box-{port}.toml"
        p.write_text(box_toml(self.state, self.printer.port, poll_s) + f"""
[journal]
enabled = false               # this harness opens the journal itself, with HQ as cosigner

[sync]
host = "127.0.0.1"
port = {port}
keepalive_s = {keepalive}
telemetry_interval_s = {telemetry_s}
hq_pubkey = "{pub}"
""" + (f'username = "{BOX}"\npassword = "{self.users[BOX]}"\n' if self.users else ""),
                     encoding="utf-8")
        return p

    def start_box(self, sales: int = 0, every_ms: int = 0, config: Path | None = None) -> Proc:
        args = ["-m", "tests.e2e.box_proc", "--config", str(config or self.box_config),
                "--sales", str(sales), "--sell-every-ms", str(every_ms)]
        self.box = Proc(args, self.root / "box.log").start()
        return self.box

    # --- HQ API (blocking, for polling from tests) ----------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = Request(self.hq.url + path, data=data, method=method,
                      headers={"Content-Type": "application/json"})
        try:
            with urlopen(req, timeout=30) as r:
                text = r.read().decode()
                status = r.status
        except Exception as e:  # urllib raises for 4xx/5xx
            status = getattr(e, "code", 0)
            fp = getattr(e, "fp", None)
            text = fp.read().decode() if fp is not None else "{}"
        if path.endswith("/journal") or "/journal?" in path:
            return status, text
        return status, json.loads(text) if text.startswith(("{", "[")) else text

    def hq_journal(self) -> list[str]:
        out: list[str] = []
        while True:
            status, text = self.api("GET", f"/v1/boxes/{BOX}/journal?from={len(out)}"
                                           "&limit=100000")
            assert status == 200
            page = [line + "\n" for line in str(text).splitlines()]
            out += page
            if len(page) < 100_000:
                return out

    def box_journal(self) -> list[str]:
        return journal_lines(self.state / "journal.db")


def wait_for(cond: Any, wait_s: float = 60.0, what: str = "condition") -> Any:
    """Poll `cond()` until truthy, with a generous deadline."""
    deadline = time.monotonic() + wait_s
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {wait_s} s")
        time.sleep(0.1)


def job(job_id: str, printer: str = "front", **extra: Any) -> dict[str, Any]:
    """A small document job whose printout carries its id as JOB[id]."""
    return {"id": job_id, "printer": printer, **extra,
            "document": {"blocks": [{"type": "text", "text": "拣货单 重庆江北仓"},
                                    {"type": "text", "text": f"JOB[{job_id}]"},
                                    {"type": "cut"}]}}
