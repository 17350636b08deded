"""SQLite for durable writes, the way HQ's store and the box's outbox both use it: opening the
file, and one write transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_durable(path: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """`path` (its folder made if missing) in autocommit mode, usable from any thread, with WAL
    and synchronous=FULL so a committed transaction survives a power cut; sqlite3.Error or
    OSError if it cannot be opened (nothing is left open then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One BEGIN IMMEDIATE transaction on `conn` (autocommit mode): committed when the block
    ends, rolled back when it raises."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
