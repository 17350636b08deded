"""Attack harness for the HTTP edge: the real daemon (`storelink agent run`) with its journal,
and raw HTTP/1.1 over a socket so a test can send any Host, Origin or Content-Type."""

from __future__ import annotations

import base64
import json
import socket
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.agent.sales.conftest import PIN_HASH
from tests.e2e.broker import free_port
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, box_table, front_printer


@dataclass
class Answer:
    """One HTTP answer: status, headers (lowercase names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON (AssertionError if it is not JSON)."""
        assert self.headers.get("content-type", "").startswith("application/json"), self
        return json.loads(self.body)

    def field(self) -> object:
        """The `error.field` of a JSON error."""
        return self.json()["error"]["field"]


def raw_http(port: int, method: str, path: str, *, body: bytes = b"",
             headers: dict[str, str] | None = None, timeout: float = 30.0) -> Answer:
    """Send one request exactly as given (no header is added but Content-Length and
    Connection: close) and read the whole answer."""
    head = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items()),
             f"Content-Length: {len(body)}", "Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall("\r\n".join(lines).encode("utf-8") + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = top.decode("latin-1").split("\r\n")
    headers_out = {}
    for line in header_lines:
        k, _, v = line.partition(":")
        headers_out[k.strip().lower()] = v.strip()
    if headers_out.get("transfer-encoding") == "chunked":
        rest = _dechunk(rest)
    return Answer(int(status_line.split()[1]), headers_out, rest)


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2:]
    return out


def post_json(port: int, path: str, value: object, **headers: str) -> Answer:
    """A JSON POST (Content-Type application/json unless `headers` says otherwise)."""
    return raw_http(port, "POST", path, body=json.dumps(value, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json", **headers})


def box_toml(state: Path, api: str = "", queue: str = "") -> str:
    """A box with its journal (supervisor M001) and one receipt printer nobody answers for."""
    return box_table(state) + f"""
[api]
listen = "127.0.0.1"
port = {free_port()}
{api}

[queue]
poll_interval_s = 0.2
backoff_max_s = 1.0
{queue}
{front_printer(free_port(), 0.5)}{NO_DISCOVERY}
[journal]
enabled = true
receipt_printer = "front"
supervisors = [{{id = "M001", name = "刘强", pin_hash = "{PIN_HASH}"}}]
"""


def start_box(root: Path, api: str = "", queue: str = "", state: Path | None = None) -> Proc:
    """`storelink agent run` on a fresh config under `root`; waited for until it is ready."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "box.toml"
    config.write_text(box_toml(state or root / "state", api, queue), encoding="utf-8")
    return Proc(["-m", "agent", "agent", "run", "--config", str(config)],
                root / "box.log").start()


def journal_records(db: Path, type_: str | None = None) -> list[dict[str, Any]]:
    """The box's journal records (of `type_`), read-only while the daemon runs."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT record FROM journal ORDER BY seq").fetchall()
    finally:
        conn.close()
    records = [json.loads(r[0]) for r in rows]
    return [r for r in records if type_ is None or r["type"] == type_]


def sale(order: str) -> dict[str, Any]:
    """A small cash sale of 不锈钢合页."""
    return {"order": order, "clerk": "C001", "till": "T1",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 1, "unit_price": 850}],
            "payments": [{"method": "cash", "amount": 850}]}


def job(job_id: str) -> dict[str, Any]:
    """A small raw print job for the front printer."""
    return {"id": job_id, "printer": "front",
            "raw": base64.b64encode("不锈钢合页 4寸\n".encode("gb18030")).decode()}
