"""A running `storelink agent run` with its journal on, supervisor M001 and, if asked, a serial
scanner on a pty: the target of the attack tests on day close, badges and PIN guessing."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from agent.sales.approvals import hash_secret
from tests.e2e.broker import free_port
from tests.e2e.daemon_world import http
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, box_table

BOX = "CQ-JB-001-B1"
SUPERVISOR_PIN = "8642"
SUPERVISOR_BADGE = "BADGE-M001"
OTHER_PIN = "1357"
WORKER_BADGE = "BADGE-W001"


def _fast_hash(secret: str) -> str:
    # The configuration accepts N >= 2^10; cheap enough for tests that guess many times.
    return hash_secret(secret, n=2**10)


def journal_box_toml(state: Path, *, scanner: str | None = None) -> str:
    """A box with a journal, supervisors M001 (PIN 8642, badge BADGE-M001) and M002 (PIN
    1357), worker W001 (badge BADGE-W001), no printers, no discovery; `scanner`: a serial
    scanner `till` on that device."""
    text = box_table(state) + f"""
[api]
port = {free_port()}
{NO_DISCOVERY}
[journal]
enabled = true
approval_refund_over_fen = 50000

[[journal.supervisors]]
id = "M001"
name = "刘强"
pin_hash = "{_fast_hash(SUPERVISOR_PIN)}"
badge_hash = "{_fast_hash(SUPERVISOR_BADGE)}"

[[journal.supervisors]]
id = "M002"
name = "王丽"
pin_hash = "{_fast_hash(OTHER_PIN)}"

[[journal.workers]]
id = "W001"
name = "赵大勇"
badge = "{WORKER_BADGE}"
"""
    if scanner is not None:
        text += f"""
[[scanners]]
id = "till"
name = "收银台扫码枪"
kind = "serial"
device = "{scanner}"
baudrate = 115200
terminator = "CR"
"""
    return text


class JournalBox:
    """`storelink agent run` on a config written under `root`; start/stop at will."""

    def __init__(self, root: Path, *, scanner: str | None = None) -> None:
        self.root = root
        self.state = root / "box"
        self.config = root / "box.toml"
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(journal_box_toml(self.state, scanner=scanner), encoding="utf-8")
        self.proc: Proc | None = None

    def start(self) -> JournalBox:
        """Start the daemon and wait until its API answers."""
        self.proc = Proc(["-m", "agent", "agent", "run", "--config", str(self.config)],
                         self.root / "box.log").start()
        return self

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def __enter__(self) -> JournalBox:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The daemon's API base URL."""
        assert self.proc is not None
        return self.proc.url

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One JSON request to the daemon's API."""
        return http(self.url, method, path, body)

    def log_text(self) -> str:
        """The daemon's stderr so far."""
        p = self.root / "box.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def journal_records(self) -> list[dict[str, Any]]:
        """Every record of the journal, through GET /v1/journal."""
        out: list[dict[str, Any]] = []
        start: int | None = 0
        while start is not None:
            status, page = self.api("GET", f"/v1/journal?from={start}&to={start + 999}")
            assert status == 200, page
            out += [e["record"] for e in page["entries"]]
            start = page["next"]
        return out


async def ws_events(session: aiohttp.ClientSession, url: str
                    ) -> aiohttp.ClientWebSocketResponse:
    """The daemon's /v1/events WebSocket, past its hello."""
    ws = await session.ws_connect(url.replace("http://", "ws://") + "/v1/events")
    hello = await ws.receive_json(timeout=10)
    assert hello["type"] == "hello", hello
    return ws


def dumps(value: Any) -> str:
    """Compact JSON as it goes over the wire (for 'does this text appear anywhere')."""
    return json.dumps(value, ensure_ascii=False)
