"""Two workers' ingests on one store: each verifies against the stored chain, never against
what its own memory verified but could not store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hq.config import BoxEntry
from hq.ingest.journal import JournalIngest
from hq.store import StoreError
from hq.store.sqlite import SqliteStore
from sync.journal.record import public_bytes
from tests.hq.journals import BOX, BOX_KEY, HQ_KEY, T0, batch, chain

BOXES = {BOX: BoxEntry(BOX, (public_bytes(BOX_KEY),))}


def worker(path: Path) -> JournalIngest:
    return JournalIngest(SqliteStore(path), BOXES, HQ_KEY, "storelink-hq",
                         clock=lambda: T0 + 10**6)


def test_a_worker_whose_append_failed_follows_what_another_worker_stored(
        tmp_path: Path) -> None:
    a, b = worker(tmp_path / "hq.db"), worker(tmp_path / "hq.db")
    true = chain(30)
    other = chain(30, variant=5, from_seq=10)  # another history from seq 10, same key
    assert a.ingest(batch(true, 0, 10)).ack.size == 10
    # A verifies the other history in memory, but its append fails (the database is locked
    # past its busy timeout) …
    lock = sqlite3.connect(tmp_path / "hq.db", isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises((StoreError, sqlite3.Error)):
            a.ingest(batch(other, 10, 20))
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    # … while B stores the true one. A must verify the next batch against the stored chain.
    assert b.ingest(batch(true, 10, 20)).ack.size == 20
    out = a.ingest(batch(true, 20, 30))
    assert (out.ack.status, out.ack.size, out.alarm) == ("ok", 30, None)
    assert a.store.alarms() == []
