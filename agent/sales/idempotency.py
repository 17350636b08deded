"""Idempotency keys: a durable map key → (record seq, request hash) beside the journal table.

The journal's writer commits records in its own transactions, so the map cannot be written in
the same one. Instead an *intent* is committed first (key, request hash, record type, the body
about to be appended, journal size at that moment), the record is appended, and the intent is
then marked done with the record's seq. An intent still pending — the daemon died between the
two commits, or the outcome was lost — is resolved from the journal itself: the first record
at or after the intent's journal size with the same type and body that no other key claims is
the key's record; if there is none, the record was never committed and the intent is dropped,
so a retry appends it. The map is blocking (SQLite): call it from a thread.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS sales_idempotency (
    key        TEXT PRIMARY KEY,
    request    TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    type       TEXT NOT NULL,
    body       TEXT,
    after      INTEGER NOT NULL,
    seq        INTEGER,
    created_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS sales_idempotency_seq ON sales_idempotency (seq);
"""
IGNORED = frozenset({"approval_seq"})
"""Body members not known when the intent is written (the approval is appended after it)."""
KEY_MAX = 128


def valid_key(key: str) -> bool:
    """1-128 printable ASCII characters without spaces."""
    return 1 <= len(key) <= KEY_MAX and all(33 <= ord(c) < 127 for c in key)


def request_hash(method: str, path: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of method, path and the request body as sorted compact JSON (`approval` left out:
    it holds a PIN and need not match on a retry)."""
    value = {k: v for k, v in body.items() if k != "approval"}
    data = json.dumps([method, path, value], sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """One key's row: pending (record maybe appended) or done (record `seq`)."""

    key: str
    request: str
    state: str
    type: str
    body: dict[str, Any] | None
    after: int
    seq: int | None


def matches(claim: Claim, record: Mapping[str, Any]) -> bool:
    """True if `record` is what `claim` was about to append (every intended member equal)."""
    if record.get("type") != claim.type or claim.body is None:
        return False
    body = record.get("body", {})
    return all(body.get(k) == v for k, v in claim.body.items() if k not in IGNORED)


def resolve(claim: Claim, records: Iterable[Mapping[str, Any]], taken: set[int]) -> int | None:
    """The seq of the claim's record among `records` (seq ≥ claim.after), or None."""
    for record in records:
        seq = record["seq"]
        if seq >= claim.after and seq not in taken and matches(claim, record):
            return int(seq)
    return None


class IdempotencyMap:
    """The durable key map, in the journal's database file (its own connection and table)."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    @staticmethod
    def _claim(row: tuple[Any, ...]) -> Claim:
        key, request, state, type_, body, after, seq = row
        return Claim(key, request, state, type_, json.loads(body) if body else None, after, seq)

    def get(self, key: str) -> Claim | None:
        """The row of `key`, or None."""
        with self._lock:
            row = self._conn.execute("SELECT key, request, state, type, body, after, seq FROM "
                                     "sales_idempotency WHERE key = ?", (key,)).fetchone()
        return None if row is None else self._claim(row)

    def begin(self, key: str, request: str, type_: str, body: Mapping[str, Any], after: int,
              now_ms: int) -> None:
        """Commit a pending intent (the key must be free)."""
        data = json.dumps({k: v for k, v in body.items() if k not in IGNORED},
                          sort_keys=True, ensure_ascii=False)
        with self._lock:
            self._conn.execute("INSERT INTO sales_idempotency(key, request, state, type, body, "
                               "after, created_ms) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
                               (key, request, type_, data, after, now_ms))

    def finish(self, key: str, seq: int) -> None:
        """Mark `key` done: its record is `seq` (the body is no longer needed)."""
        with self._lock:
            self._conn.execute("UPDATE sales_idempotency SET state = 'done', seq = ?, body = NULL "
                               "WHERE key = ?", (seq, key))

    def forget(self, key: str) -> None:
        """Drop a pending intent whose record was not appended."""
        with self._lock:
            self._conn.execute("DELETE FROM sales_idempotency WHERE key = ? AND state = 'pending'",
                               (key,))

    def pending(self) -> list[Claim]:
        """Every pending intent, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT key, request, state, type, body, after, seq FROM "
                                      "sales_idempotency WHERE state = 'pending' "
                                      "ORDER BY created_ms").fetchall()
        return [self._claim(r) for r in rows]

    def taken(self, after: int) -> set[int]:
        """Seqs ≥ `after` that done keys already claim."""
        with self._lock:
            rows = self._conn.execute("SELECT seq FROM sales_idempotency WHERE seq >= ?",
                                      (after,)).fetchall()
        return {int(r[0]) for r in rows}

    def prune(self, before_ms: int) -> int:
        """Forget done keys created before `before_ms`; how many."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM sales_idempotency WHERE state = 'done' AND "
                                     "created_ms < ?", (before_ms,))
        return cur.rowcount
