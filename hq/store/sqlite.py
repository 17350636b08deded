"""HQ's store on SQLite (WAL, synchronous=FULL), implementing `hq.store.HqStore`.

Blocking: call from worker threads.

Several HQ workers may share one file: every write is a short BEGIN IMMEDIATE transaction and
journal and event appends are conditional on the position the caller read (optimistic).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hq.store import JobRow, JournalHead, StoredEntry, StoreError
from hq.store.schema import SQLITE, VERSION_TABLE, Migration, pending
from hq.store.sql_shared import SqlShared
from sync.durable_sqlite import immediate, open_durable
from sync.protocol.messages import Event, IntakeEvent, JobEvent


class SqliteStore(SqlShared):
    """All of HQ's durable state in one SQLite file."""

    def __init__(self, path: Path, now_ms: int | None = None,
                 migrations: Sequence[Migration] = SQLITE) -> None:
        """Open (creating or migrating the file through `migrations`); StoreError if it cannot,
        SchemaTooNew if a newer HQ migrated it."""
        self.path = path
        self._lock = threading.Lock()
        now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        try:
            self._conn = open_durable(path, busy_timeout_ms=10000)
            self._migrate(now_ms, migrations)
        except (OSError, sqlite3.Error) as e:
            self._conn_close_quietly()
            raise StoreError(f"cannot open {path}: {e}") from e
        except StoreError:
            self._conn_close_quietly()
            raise

    def _conn_close_quietly(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()

    def _migrate(self, now_ms: int, migrations: Sequence[Migration]) -> None:
        """Bring the file to the latest schema in one transaction; SchemaTooNew before any
        change if a newer HQ migrated it."""
        with self._tx() as c:
            c.execute(VERSION_TABLE)
            found = c.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            for m in pending(found[0], migrations):
                for statement in m.statements:
                    c.execute(statement)
                c.execute("INSERT INTO schema_version (version, applied_ms) VALUES (?, ?)",
                          (m.version, now_ms))

    def schema_version(self) -> int:
        """The schema version the file is at."""
        return int(self._read("SELECT MAX(version) FROM schema_version")[0][0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, immediate(self._conn) as c:
            yield c

    def _param(self, sql: str) -> str:
        return sql

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        with self._tx() as c:
            c.execute(sql, args)

    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        with self._tx() as c:
            return [c.execute(sql, args).rowcount for sql, args in statements]

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # --- journal -------------------------------------------------------------------------

    def journal_head(self, box: str) -> JournalHead | None:
        """What HQ holds of `box`'s journal, or None if nothing yet."""
        rows = self._read("SELECT log, size, head, cosignature FROM journal_head WHERE box = ?",
                          (box,))
        if not rows:
            return None
        r = rows[0]
        return JournalHead(r[0], r[1], r[2], json.loads(r[3]))

    def journal_entries(self, box: str, start: int, end: int) -> list[StoredEntry]:
        """Stored entries with start <= seq < end, in order."""
        rows = self._read("SELECT seq, raw, hash, sig FROM journal WHERE box = ? AND seq >= ? "
                          "AND seq < ? ORDER BY seq", (box, start, end))
        return [StoredEntry(r[0], r[1], r[2], r[3]) for r in rows]

    def journal_append(self, box: str, log: str, expected_size: int, entries: list[StoredEntry],
                       cosignature: dict[str, Any], now_ms: int) -> bool:
        """Append entries seq expected_size… and the new cosignature, atomically; False (nothing
        written) if HQ's stored size is no longer `expected_size` (another worker was first)."""
        with self._tx() as c:
            row = c.execute("SELECT size FROM journal_head WHERE box = ?", (box,)).fetchone()
            if (row[0] if row else 0) != expected_size:
                return False
            c.executemany("INSERT INTO journal (box, seq, raw, hash, sig, received_ms) "
                          "VALUES (?, ?, ?, ?, ?, ?)",
                          [(box, e.seq, e.raw, e.hash, e.sig, now_ms) for e in entries])
            last = entries[-1] if entries else None
            size = expected_size + len(entries)
            c.execute("INSERT INTO journal_head (box, log, size, head, cosignature) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (box) DO UPDATE SET size = excluded.size,"
                      " head = excluded.head, cosignature = excluded.cosignature",
                      (box, log, size, last.hash if last else b"", json.dumps(cosignature)))
            return True

    # --- alarms --------------------------------------------------------------------------

    def add_alarm(self, box: str, kind: str, seq: int, reason: str, evidence: dict[str, Any],
                  now_ms: int) -> bool:
        """Raise an alarm; False if the same (box, kind, seq) was raised before."""
        with self._tx() as c:
            cur = c.execute("INSERT OR IGNORE INTO alarms (box, kind, seq, reason, evidence, at_ms)"
                            " VALUES (?, ?, ?, ?, ?, ?)",
                            (box, kind, seq, reason, json.dumps(evidence, ensure_ascii=False),
                             now_ms))
            return cur.rowcount == 1

    def alarms(self, box: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alarms newest first."""
        sql = "SELECT id, box, kind, seq, reason, evidence, at_ms FROM alarms"
        args: tuple[object, ...] = ()
        if box is not None:
            sql += " WHERE box = ?"
            args = (box,)
        rows = self._read(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [{"id": r[0], "box": r[1], "kind": r[2], "seq": r[3], "reason": r[4],
                 "evidence": json.loads(r[5]), "at_ms": r[6]} for r in rows]

    # --- events from boxes ---------------------------------------------------------------

    def event_pos(self, box: str, stream: str) -> int:
        """The last eseq of `stream` applied (0 if none)."""
        rows = self._read("SELECT pos FROM event_streams WHERE box = ? AND stream = ?",
                          (box, stream))
        return rows[0][0] if rows else 0

    def apply_events(self, box: str, stream: str, expected_pos: int, events: list[Event],
                     now_ms: int) -> bool:
        """Apply events expected_pos+1 … (job states by version, intake answers, command
        results) and advance the stream, in one transaction; False if the stream is no longer
        at `expected_pos` (another worker applied them)."""
        with self._tx() as c:
            row = c.execute("SELECT pos FROM event_streams WHERE box = ? AND stream = ?",
                            (box, stream)).fetchone()
            if (row[0] if row else 0) != expected_pos:
                return False
            for ev in events:
                if isinstance(ev, JobEvent):
                    c.execute("INSERT OR IGNORE INTO job_states (job_id, version, box, printer, "
                              "state, reason, at_ms, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (ev.id, ev.version, box, ev.printer, ev.state, ev.reason, ev.at_ms,
                               now_ms))
                elif isinstance(ev, IntakeEvent):
                    c.execute("UPDATE jobs SET intake = ?, intake_error = ?, intake_ms = ? "
                              "WHERE id = ? AND box = ? AND intake IS NULL",
                              (ev.result, ev.error, ev.at_ms, ev.id, box))
                else:
                    cur = c.execute("UPDATE commands SET result = ?, error = ?, result_ms = ? "
                                    "WHERE nonce = ? AND box = ? AND result IS NULL",
                                    (ev.result, ev.error, ev.at_ms, ev.nonce, box))
                    if cur.rowcount == 0 and ev.result == "refused":
                        # Not a command of ours: forged, replayed or garbled — someone's attempt.
                        c.execute("INSERT OR IGNORE INTO alarms (box, kind, seq, reason, "
                                  "evidence, at_ms) VALUES (?, 'command_refused', ?, ?, ?, ?)",
                                  (box, ev.eseq, ev.error, json.dumps(
                                      {"nonce": ev.nonce, "name": ev.name, "stream": stream}),
                                   now_ms))
            pos = events[-1].eseq if events else expected_pos
            c.execute("INSERT INTO event_streams (box, stream, pos) VALUES (?, ?, ?) "
                      "ON CONFLICT (box, stream) DO UPDATE SET pos = excluded.pos",
                      (box, stream, pos))
            return True

    # --- cloud print jobs ----------------------------------------------------------------

    def job_create(self, job: JobRow) -> tuple[JobRow, bool]:
        """Store a new job, or return the stored one with the same id (created False)."""
        with self._tx() as c:
            existing = self._job(c, job.id)
            if existing is not None:
                return existing, False
            c.execute("INSERT INTO jobs (id, box, printer, body, body_hash, expires_at_ms, "
                      "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (job.id, job.box, job.printer, json.dumps(job.body, ensure_ascii=False),
                       job.body_hash, job.expires_at_ms, job.created_ms))
            return job, True

    @staticmethod
    def _job(c: sqlite3.Connection, job_id: str) -> JobRow | None:
        r = c.execute("SELECT id, box, printer, body, body_hash, expires_at_ms, created_ms, "
                      "dispatched_ms, intake, intake_error, intake_ms FROM jobs WHERE id = ?",
                      (job_id,)).fetchone()
        if r is None:
            return None
        return JobRow(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8], r[9],
                      r[10])

    def job(self, job_id: str) -> JobRow | None:
        """The job with this id, or None."""
        with self._lock:
            return self._job(self._conn, job_id)

    def job_states(self, job_id: str) -> list[dict[str, Any]]:
        """The job's state history as the box reported it, by version."""
        rows = self._read("SELECT version, state, reason, at_ms, received_ms FROM job_states "
                          "WHERE job_id = ? ORDER BY version", (job_id,))
        return [{"version": r[0], "state": r[1], "reason": r[2], "at_ms": r[3],
                 "received_ms": r[4]} for r in rows]

    def job_dispatched(self, job_id: str, now_ms: int) -> None:
        """The broker accepted the job's PUBLISH."""
        with self._tx() as c:
            c.execute("UPDATE jobs SET dispatched_ms = ? WHERE id = ? AND dispatched_ms IS NULL",
                      (now_ms, job_id))

    def jobs_recent(self, limit: int, box: str | None = None) -> list[JobRow]:
        """The newest jobs (of `box`, if given), newest first."""
        where, args = (" WHERE box = ?", (box,)) if box is not None else ("", ())
        with self._lock:
            ids = [r[0] for r in self._conn.execute(
                f"SELECT id FROM jobs{where} ORDER BY created_ms DESC, id LIMIT ?",
                (*args, limit)).fetchall()]
            return [j for j in (self._job(self._conn, i) for i in ids) if j is not None]

    def jobs_undispatched(self, now_ms: int, limit: int = 500) -> list[JobRow]:
        """Unexpired jobs the broker has not accepted yet (HQ was disconnected), oldest first."""
        with self._lock:
            ids = [r[0] for r in self._conn.execute(
                "SELECT id FROM jobs WHERE dispatched_ms IS NULL AND expires_at_ms > ? "
                "ORDER BY created_ms LIMIT ?", (now_ms, limit)).fetchall()]
            return [j for j in (self._job(self._conn, i) for i in ids) if j is not None]

    def jobs_unanswered(self, box: str, now_ms: int, limit: int = 1000) -> list[JobRow]:
        """Unexpired jobs of `box` it has not answered yet, oldest first."""
        with self._lock:
            ids = [r[0] for r in self._conn.execute(
                "SELECT id FROM jobs WHERE box = ? AND intake IS NULL AND expires_at_ms > ? "
                "ORDER BY created_ms LIMIT ?", (box, now_ms, limit)).fetchall()]
            return [j for j in (self._job(self._conn, i) for i in ids) if j is not None]

    # --- device registry -----------------------------------------------------------------

    def box_update(self, box: str,
                   fn: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> None:
        """Read-modify-write one box's registry state (a JSON object) in one transaction;
        `fn` returns the new state, or None to leave it unchanged."""
        with self._tx() as c:
            row = c.execute("SELECT state FROM boxes WHERE id = ?", (box,)).fetchone()
            new = fn(json.loads(row[0]) if row else None)
            if new is not None:
                c.execute("INSERT INTO boxes (id, state) VALUES (?, ?) ON CONFLICT (id) DO "
                          "UPDATE SET state = excluded.state",
                          (box, json.dumps(new, ensure_ascii=False)))
