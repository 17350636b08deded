"""A test world of shipped commands: mosquitto behind a cut-proxy, `storelink hq run`, the real
daemon `storelink agent run` with its journal and `[sync]`, and a simulated printer process.

Keys are set up as an operator would: the box's journal key is made in `keys/box.key` and read
back with `storelink journal pubkey --key`, HQ's key is made by `storelink hq pubkey`.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.keys import write_key
from sync.journal.checkpoint import ALG_COSIGNATURE_V1, vkey
from tests.e2e.broker import env_with_root
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, Rig, box_toml

BOX = "CQ-JB-001-B1"
COSIGNER = "storelink-hq"


def storelink(*args: str) -> str:
    """Run `python -m agent ARGS…` (the `storelink` command); its standard output."""
    done = subprocess.run([sys.executable, "-m", "agent", *args], check=False,
                          capture_output=True, text=True, env=env_with_root(), timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"storelink {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done.stdout


def fetch(base: str, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, str]:
    """One request with a JSON body; (status, text); status 0 if nothing answered."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = Request(base + path, data=data, method=method,
                  headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except OSError as e:  # HTTPError (4xx/5xx) carries a body; a refused connection does not
        fp = getattr(e, "fp", None)
        try:
            text = fp.read().decode() if fp is not None else ""
        except OSError:
            text = ""
        return getattr(e, "code", 0) or 0, text


def http(base: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One JSON request; (status, the decoded answer, or None if it was not JSON)."""
    status, text = fetch(base, method, path, body, headers)
    try:
        return status, json.loads(text)
    except ValueError:
        return status, None


def sale_request(n: int) -> dict[str, Any]:
    """A till's POST /v1/sales body: n % 5 + 1 pieces of 不锈钢合页 paid by WeChat."""
    qty = n % 5 + 1
    return {"order": f"XS-E2E-{n:06d}", "till": "T1", "clerk": "C001", "member": "会员-王芳",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": qty,
                       "unit_price": 850}],
            "payments": [{"method": "wechat", "amount": 850 * qty}]}


def job(job_id: str, printer: str = "front") -> dict[str, Any]:
    """A small cloud job whose printout carries its id as JOB[id]."""
    return {"id": job_id, "printer": printer,
            "document": {"blocks": [{"type": "text", "text": "拣货单 重庆江北仓 三号库"},
                                    {"type": "text", "text": f"JOB[{job_id}]"},
                                    {"type": "cut"}]}}


def hq_run_toml(broker_port: int, box_pubkey: str, keepalive: int = 5, box_extra: str = "") -> str:
    """HQ's config for `storelink hq run` beside its key file `hq.key` and store `hq.db`: the
    broker on `broker_port`, the API on a free port, box BOX with `box_pubkey` (+ `box_extra`)."""
    return f"""
[hq]
id = "hq-1"
cosigner = "{COSIGNER}"
key_file = "hq.key"
db = "hq.db"

[mqtt]
host = "127.0.0.1"
port = {broker_port}
keepalive_s = {keepalive}

[api]
listen = "127.0.0.1"
port = 0

[[boxes]]
id = "{BOX}"
pubkeys = ["{box_pubkey}"]
""" + box_extra


class DaemonWorld(Rig):
    """Everything of one test under `root`; the box is `storelink agent run`."""

    def __init__(self, root: Path, keepalive: int = 5, telemetry_s: int = 2,
                 users: dict[str, str] | None = None, hq_extra: str = "",
                 printer_raw: Path | None = None) -> None:
        """`hq_extra` is appended to HQ's config (e.g. `[[stores]]`)."""
        super().__init__(root, users, printer_raw=printer_raw)
        self.box_key = self.state / "keys" / "box.key"
        write_key(self.box_key, Ed25519PrivateKey.generate())
        self.box_pubkey = json.loads(storelink("journal", "pubkey", "--key",
                                               str(self.box_key)))["pubkey"]
        hq_dir = root / "hq"
        hq_dir.mkdir()
        self.hq_config = hq_dir / "hq.toml"
        self.hq_config.write_text(hq_run_toml(self.broker.port, self.box_pubkey, keepalive,
                                              hq_extra), encoding="utf-8")
        self.hq_pubkey = storelink("hq", "pubkey", "--config", str(self.hq_config)).strip()
        self.hq = Proc(["-m", "agent", "hq", "run", "--config", str(self.hq_config)],
                       hq_dir / "hq.log").start()
        self.box_config = root / "box.toml"
        self.box_config.write_text(box_toml(self.state, self.printer.port) + NO_DISCOVERY + f"""
[journal]
enabled = true

[sync]
host = "127.0.0.1"
port = {self.proxy.port}
keepalive_s = {keepalive}
telemetry_interval_s = {telemetry_s}
hq_pubkey = "{self.hq_pubkey}"
""", encoding="utf-8")

    def start_box(self) -> Proc:
        """`storelink agent run --config box.toml`, waited for until its API answers."""
        self.box = Proc(["-m", "agent", "agent", "run", "--config", str(self.box_config)],
                        self.root / "box.log").start()
        return self.box

    # --- the two HTTP APIs --------------------------------------------------------------

    def hq_api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """HQ's API."""
        return http(self.hq.url, method, path, body)

    def box_api(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """The daemon's local API."""
        assert self.box is not None
        return http(self.box.url, method, path, body, headers)

    def box_view(self) -> dict[str, Any]:
        """GET /v1/boxes/{box} at HQ ({} before HQ knows the box)."""
        status, view = self.hq_api("GET", f"/v1/boxes/{BOX}")
        return view if status == 200 and isinstance(view, dict) else {}

    def online(self) -> bool:
        """HQ believes the box is online."""
        return bool(self.box_view().get("online"))

    def job_state(self, job_id: str) -> str:
        """The job's state at HQ ('' if HQ does not know it)."""
        status, view = self.hq_api("GET", f"/v1/print-jobs/{job_id}")
        return str(view["state"]) if status == 200 else ""

    # --- journals -----------------------------------------------------------------------

    def hq_journal(self) -> list[str]:
        """HQ's copy of the box's journal, as export lines."""
        status, text = fetch(self.hq.url, "GET", f"/v1/boxes/{BOX}/journal?from=0&limit=100000")
        assert status == 200, (status, text)
        return [line + "\n" for line in text.splitlines() if line]

    def box_journal(self) -> list[str]:
        """The box's journal by `storelink journal export` (read while the daemon may run)."""
        out = storelink("journal", "export", str(self.state / "journal.db"))
        return [line + "\n" for line in out.splitlines() if line]

    def settled(self) -> bool:
        """The upload has ended: HQ holds exactly the box's journal (same size and head, as
        both APIs report), the box's cursor is at its head, and every record after the
        largest size HQ cosigned is itself a cosign record."""
        st, head = self.box_api("GET", "/v1/journal/head")
        held = self.box_view().get("hq_journal") or {}
        if st != 200 or head["size"] != held.get("size") or head["hash"] != held["head"]:
            return False
        if self.upload_cursor() != head["size"]:
            return False
        st, tail = self.box_api("GET", f"/v1/journal?from={head['cosigned']}"
                                       f"&to={head['size'] - 1}")
        return st == 200 and tail["next"] is None and all(
            e["record"]["type"] == "cosign" for e in tail["entries"])

    def verify_box_journal(self) -> str:
        """`storelink journal verify` with the box's key and HQ's cosigner key."""
        hq_vkey = vkey(COSIGNER, _b64(self.hq_pubkey), ALG_COSIGNATURE_V1)
        return storelink("journal", "verify", str(self.state / "journal.db"),
                         "--pubkey", self.box_pubkey, "--hq-pubkey", hq_vkey)

    def upload_cursor(self) -> int:
        """The box's durable upload cursor (records HQ has acknowledged), from uplink.db."""
        db = self.state / "uplink.db"
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT ival FROM kv WHERE ns = 'journal' AND key = 'acked'"
                               ).fetchone()
        finally:
            conn.close()
        return int(row[0]) if row and row[0] is not None else 0


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def records(lines: list[str]) -> list[dict[str, Any]]:
    """The records of export lines."""
    return [json.loads(line)["record"] for line in lines]
