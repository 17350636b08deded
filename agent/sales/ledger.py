"""Read-only queries on the journal database that the sales service needs (blocking: threads).

A separate read-only connection: it never delays the journal's writer, and sees only committed
records.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sync.journal.record import Entry


class JournalReader:
    """Committed records by seq, by sale, by type; export-form entries for the API."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def record(self, seq: int) -> dict[str, Any] | None:
        """Record `seq` as a JSON object, or None."""
        rows = self._rows("SELECT record FROM journal WHERE seq = ?", (seq,))
        return json.loads(rows[0][0]) if rows else None

    def entry(self, seq: int) -> Entry | None:
        """The stored entry `seq` (canonical bytes, hash, signature), or None."""
        rows = self._rows("SELECT record, hash, sig FROM journal WHERE seq = ?", (seq,))
        if not rows:
            return None
        raw, h, sig = rows[0]
        return Entry(raw.encode("utf-8"), bytes(h), bytes(sig))

    def entries(self, start: int, stop: int) -> list[Entry]:
        """Entries with start ≤ seq ≤ stop, in order."""
        rows = self._rows("SELECT record, hash, sig FROM journal WHERE seq BETWEEN ? AND ? "
                          "ORDER BY seq", (start, stop))
        return [Entry(r.encode("utf-8"), bytes(h), bytes(s)) for r, h, s in rows]

    def records(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        """Records with start ≤ seq ≤ stop, in order (read in one query)."""
        for (raw,) in self._rows("SELECT record FROM journal WHERE seq BETWEEN ? AND ? "
                                 "ORDER BY seq", (start, stop)):
            yield json.loads(raw)

    def against_sale(self, sale_seq: int) -> list[dict[str, Any]]:
        """Refund and void records of sale `sale_seq`, in order."""
        return [json.loads(r) for (r,) in self._rows(
            "SELECT record FROM journal WHERE json_extract(record, '$.body.sale_seq') = ? "
            "ORDER BY seq", (sale_seq,))]

    def last_of(self, type_: str) -> dict[str, Any] | None:
        """The newest record of `type_`, or None."""
        rows = self._rows("SELECT record FROM journal WHERE json_extract(record, '$.type') = ? "
                          "ORDER BY seq DESC LIMIT 1", (type_,))
        return json.loads(rows[0][0]) if rows else None

    def standing_close(self) -> dict[str, Any] | None:
        """The newest day close no supervisor re-opened (`day_reopen` approval), or None."""
        rows = self._rows(
            "SELECT c.record FROM journal c WHERE json_extract(c.record, '$.type') = "
            "'day_close' AND NOT EXISTS (SELECT 1 FROM journal a WHERE a.seq > c.seq AND "
            "json_extract(a.record, '$.type') = 'approval' AND "
            "json_extract(a.record, '$.body.action') = 'day_reopen' AND "
            "json_extract(a.record, '$.body.ref_seq') = c.seq) ORDER BY c.seq DESC LIMIT 1", ())
        return json.loads(rows[0][0]) if rows else None

    def approval_for(self, action: str, ref_seq: int) -> int | None:
        """The seq of an approval of `action` referring to `ref_seq`, or None."""
        rows = self._rows(
            "SELECT seq FROM journal WHERE seq > ? AND json_extract(record, '$.type') = "
            "'approval' AND json_extract(record, '$.body.action') = ? AND "
            "json_extract(record, '$.body.ref_seq') = ? LIMIT 1", (ref_seq, action, ref_seq))
        return int(rows[0][0]) if rows else None

    def checkpoint(self, size: int) -> str | None:
        """The stored signed checkpoint note of `size` records, or None."""
        rows = self._rows("SELECT note FROM checkpoints WHERE size = ?", (size,))
        return str(rows[0][0]) if rows else None
