"""docs/protocol.md §11.1 step by step with the shipped commands: the box's first start without
`[sync]` makes its key, `storelink journal pubkey DB` reads it, HQ is configured with it, and
the box with `[sync]` then uploads a journal HQ accepts without an alarm."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.broker import Broker
from tests.e2e.daemon_world import BOX, COSIGNER, fetch, hq_run_toml, http, storelink
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, box_toml, wait_for

pytestmark = pytest.mark.timeout(600)
NO_DEVICES = NO_DISCOVERY + """
[journal]
enabled = true
"""


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in reversed(started):
        p.stop()


def test_hq_learns_the_box_key_as_documented(tmp_path: Path, procs: list[Proc]) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    try:
        printer = Proc(["-m", "tests.e2e.printer_proc", "--log", str(tmp_path / "p.jsonl")],
                       tmp_path / "printer.err").start()
        procs.append(printer)
        state = tmp_path / "box"
        config = tmp_path / "storelink.toml"
        # 1. The box's first start, without [sync]: it makes its key and genesis record.
        config.write_text(box_toml(state, printer.port) + NO_DEVICES, encoding="utf-8")
        box = Proc(["-m", "agent", "agent", "run", "--config", str(config)],
                   tmp_path / "box.log").start()
        assert box.stop() == 0
        assert (state / "keys" / "box.key").stat().st_mode & 0o077 == 0
        # 2. Its key, read from the journal.
        printed = json.loads(storelink("journal", "pubkey", str(state / "journal.db")))
        assert printed["key_id"] == printed["current"] and len(printed["pubkey"]) == 64
        assert json.loads(storelink("journal", "pubkey", "--key", str(state / "keys" / "box.key"))
                          )["pubkey"] == printed["pubkey"]
        # 3. HQ configured with it (and the log pinned), then started.
        hq_dir = tmp_path / "hq"
        hq_dir.mkdir()
        hq_config = hq_dir / "hq.toml"
        hq_config.write_text(hq_run_toml(broker.port, printed["pubkey"],
                                         box_extra=f'log = "{printed["log"]}"\n'),
                             encoding="utf-8")
        # 4. HQ's key for the box.
        hq_pubkey = storelink("hq", "pubkey", "--config", str(hq_config)).strip()
        hq = Proc(["-m", "agent", "hq", "run", "--config", str(hq_config)],
                  hq_dir / "hq.log").start()
        procs.append(hq)
        # 5. The box with [sync]: it is born and its journal is accepted, countersigned.
        with config.open("a", encoding="utf-8") as f:
            f.write(f"""
[sync]
host = "127.0.0.1"
port = {broker.port}
keepalive_s = 5
telemetry_interval_s = 2
hq_pubkey = "{hq_pubkey}"
hq_cosigner = "{COSIGNER}"
""")
        box = Proc(["-m", "agent", "agent", "run", "--config", str(config)],
                   tmp_path / "box2.log").start()
        procs.append(box)

        def synced() -> bool:
            status, view = http(hq.url, "GET", f"/v1/boxes/{BOX}")
            st, head = http(box.url, "GET", "/v1/journal/head")
            return (status == 200 and st == 200 and bool(view.get("online"))
                    and (view.get("hq_journal") or {}).get("log") == printed["log"]
                    and head["cosigned"] > 0)

        wait_for(synced, 120, "journal countersigned by HQ")
        status, text = fetch(hq.url, "GET", f"/v1/boxes/{BOX}/journal")
        assert status == 200
        assert json.loads(text.splitlines()[0])["record"]["body"]["pubkey"] == printed["pubkey"]
        assert http(hq.url, "GET", "/v1/alarms")[1] == {"alarms": []}
    finally:
        broker.stop()
