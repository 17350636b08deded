"""An acknowledgement whose cosignature is an empty object is input like any other: the box
logs it and keeps uploading (before, an `assert` on it stopped the box's journal upload)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sync.protocol.topics import Down, down
from tests.e2e.test_sync_e2e import publish_raw, synced
from tests.e2e.world import World, wait_for
from tests.hq.journals import BOX

pytestmark = pytest.mark.timeout(300)


def _log_id(db: Path) -> str:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return str(json.loads(conn.execute("SELECT record FROM journal WHERE seq = 0")
                              .fetchone()[0])["log"])
    finally:
        conn.close()


def test_an_ack_with_an_empty_cosignature_neither_advances_nor_stops_the_upload(
        world: World) -> None:
    box = world.start_box(sales=40, every_ms=250)
    wait_for(lambda: synced(world), what="first sync")
    forged = {"v": 1, "box": BOX, "log_id": _log_id(world.state / "journal.db"), "status": "ok",
              "size": 100_000, "at_ms": 1, "cosignature": {}}
    publish_raw(world.broker.port, down(BOX, Down.JOURNAL_ACK),
                json.dumps(forged).encode())
    wait_for(lambda: "no usable cosignature" in box.log_text(), what="the refusal logged")
    # The sales keep coming and keep reaching HQ, which keeps cosigning them.
    wait_for(lambda: synced(world) and len(world.box_journal()) > 40, wait_s=120,
             what="every sale uploaded after the forged ack")
    assert "AssertionError" not in box.log_text()
