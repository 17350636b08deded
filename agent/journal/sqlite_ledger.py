"""The journal's SQLite layout (docs/journal.md §12) and the ledger queries the writer needs."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from agent import AgentError
from sync.journal.rules import SaleState

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq    INTEGER PRIMARY KEY CHECK (seq >= 0),
    record TEXT NOT NULL,
    hash   BLOB NOT NULL CHECK (length(hash) = 32),
    sig    BLOB NOT NULL CHECK (length(sig) = 64)
);
CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'journal rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'journal rows are append-only'); END;
CREATE TRIGGER IF NOT EXISTS journal_dense BEFORE INSERT ON journal
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq) + 1, 0) FROM journal)
BEGIN SELECT RAISE(ABORT, 'journal seq must be the next one'); END;
CREATE INDEX IF NOT EXISTS journal_sale_ref ON journal (json_extract(record, '$.body.sale_seq'));
CREATE TABLE IF NOT EXISTS checkpoints (
    size     INTEGER PRIMARY KEY,
    note     TEXT NOT NULL,
    cosigned TEXT
);
"""


FORMAT = 1
"""The journal file format this program reads and writes (SQLite `user_version`; 0 in files
made before it was recorded). A release that changes the format raises it, and only once its
upgrade trial is committed (docs/deploy.md, "Upgrades"), so the release it rolls back to can
still read the journal."""


def check_format(conn: sqlite3.Connection, path: str) -> None:
    """Record FORMAT in a journal that has none; AgentError when the file's format is newer
    than this program knows (it refuses to start rather than misread the shop's record)."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > FORMAT:
        raise AgentError(f"销售日志格式比本程序新，拒绝启动 / journal {path} has format {found}, "
                         f"newer than this release reads ({FORMAT}): refusing to start; run the "
                         "release that wrote it (or a newer one)")
    if found < FORMAT:
        conn.execute(f"PRAGMA user_version = {FORMAT}")


class SqlLedger:
    """Ledger (sync.journal.rules) over the journal table; sees the writer's open transaction.

    `before_read` runs before every query (the writer flushes its buffered rows there).
    """

    def __init__(self, conn: sqlite3.Connection,
                 before_read: Callable[[], None] = lambda: None) -> None:
        self._conn = conn
        self._before_read = before_read

    def type_at(self, seq: int) -> str | None:
        """See sync.journal.rules.Ledger."""
        self._before_read()
        row = self._conn.execute("SELECT json_extract(record, '$.type') FROM journal WHERE seq = ?",
                                 (seq,)).fetchone()
        return None if row is None else str(row[0])

    def hash_at(self, seq: int) -> bytes | None:
        """See sync.journal.rules.Ledger."""
        self._before_read()
        row = self._conn.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def sale(self, seq: int) -> SaleState | None:
        """See sync.journal.rules.Ledger."""
        self._before_read()
        row = self._conn.execute("SELECT record FROM journal WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return None
        record = json.loads(row[0])
        if record["type"] != "sale":
            return None
        refunded, voided = 0, False
        for type_, total in self._conn.execute(
                "SELECT json_extract(record, '$.type'), json_extract(record, '$.body.total') "
                "FROM journal WHERE json_extract(record, '$.body.sale_seq') = ?", (seq,)):
            if type_ == "refund":
                refunded += int(total)
            elif type_ == "void":
                voided = True
        return SaleState(record["body"]["total"], refunded, voided, record["body"]["payments"])


def read_rows(path: str | os.PathLike[str], start: int = 0
              ) -> Iterator[tuple[bytes, bytes, bytes | None]]:
    """(record bytes, signature, stored hash) of each row in seq order, read-only.

    Raises AgentError if the file is missing or holds no journal table.
    """
    p = Path(path)
    if not p.is_file():
        raise AgentError(f"{p}: no such file")
    try:
        conn = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise AgentError(f"{p}: {e}") from None
    try:
        try:
            cur = conn.execute("SELECT record, sig, hash FROM journal WHERE seq >= ? ORDER BY seq",
                               (start,))
        except sqlite3.DatabaseError as e:
            raise AgentError(f"{p}: not a journal database ({e})") from None
        for record, sig, stored in cur:
            raw = record.encode("utf-8") if isinstance(record, str) else bytes(record)
            yield raw, bytes(sig), None if stored is None else bytes(stored)
    finally:
        conn.close()
