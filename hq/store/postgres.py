"""HQ's store on PostgreSQL (psycopg 3, a few pooled connections), implementing `HqStore`.

Blocking: call from worker threads; thread-safe (each call borrows a pooled connection).

Several HQ workers share one database. Every write is one short transaction; journal and event
appends are a single conditional UPDATE of the position the caller read (the row lock it takes
is held only until COMMIT, never across network I/O), so of several workers appending at the
same head exactly one wins and the others get False.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from hq.store import JobRow, JournalHead, StoredEntry, StoreError, StoreUnavailableError
from hq.store.pg_pool import ConnectionPool
from hq.store.schema import POSTGRES, VERSION_TABLE, Migration, pending
from hq.store.sql_shared import SqlShared
from sync.protocol.messages import Event, IntakeEvent, JobEvent

MIGRATION_LOCK = 0x5354_4C4B_4851
"""The advisory lock that lets one worker migrate while the others starting with it wait."""

_JOB_COLUMNS = ("id, box, printer, body, body_hash, expires_at_ms, created_ms, dispatched_ms, "
                "intake, intake_error, intake_ms")


def _text(s: str | None) -> str | None:
    """A box's free text as PostgreSQL can hold it: NUL (which TEXT refuses) becomes U+FFFD."""
    return None if s is None else s.replace("\x00", "\ufffd")


def describe(url: str) -> str:
    """`host:port/dbname` of a connection URL, without the password (for messages)."""
    try:
        d = conninfo_to_dict(url)
    except psycopg.Error:
        return "an unparsable PostgreSQL URL"
    return f"{d.get('host', 'localhost')}:{d.get('port', 5432)}/{d.get('dbname', '')}"


class PostgresStore(SqlShared):
    """All of HQ's durable state in one PostgreSQL database."""

    _NEXT_ORDER_SEQ = "nextval('orders_seq_next')"

    def __init__(self, url: str, pool_size: int = 8, timeout_s: int = 5,
                 now_ms: int | None = None, migrations: Sequence[Migration] = POSTGRES) -> None:
        """Connect, create or migrate the schema through `migrations`; StoreError if the
        database cannot be reached within `timeout_s`, SchemaTooNew if a newer HQ migrated it.
        Later calls raise StoreError at once while the database is down, and work again when
        it is back."""
        self.where = describe(url)
        now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
        self._pool = ConnectionPool(url, pool_size, timeout_s, busy_wait_s=30.0)
        try:
            with self._pool.connection() as c:
                self._migrate(c, now_ms, migrations)
        except psycopg.Error as e:
            self._pool.close()
            raise StoreError(f"cannot open PostgreSQL at {self.where}: {e}") from e
        except StoreError:
            self._pool.close()
            raise

    @staticmethod
    def _migrate(c: psycopg.Connection[Any], now_ms: int,
                 migrations: Sequence[Migration]) -> None:
        with c.transaction():
            c.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            c.execute(VERSION_TABLE)
            row = c.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
            for m in pending(int(row[0]) if row else 0, migrations):
                for statement in m.statements:
                    c.execute(statement.encode())
                c.execute("INSERT INTO schema_version (version, applied_ms) VALUES (%s, %s)",
                          (m.version, now_ms))

    def close(self) -> None:
        """Close the store's connections."""
        self._pool.close()

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction on a pooled connection; committed when the block ends normally."""
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.OperationalError as e:
            raise StoreUnavailableError(f"PostgreSQL at {self.where}: {e}") from e
        except psycopg.Error as e:
            raise StoreError(f"PostgreSQL at {self.where}: {e}") from e

    def _param(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        with self._tx() as cur:
            cur.execute(sql.encode(), args)

    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        counts = []
        with self._tx() as cur:
            for sql, args in statements:
                cur.execute(sql.encode(), args)
                counts.append(cur.rowcount)
        return counts

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        try:
            with self._pool.connection() as conn:
                return conn.execute(sql.encode(), args).fetchall()
        except psycopg.OperationalError as e:
            raise StoreUnavailableError(f"PostgreSQL at {self.where}: {e}") from e
        except psycopg.Error as e:
            raise StoreError(f"PostgreSQL at {self.where}: {e}") from e

    def schema_version(self) -> int:
        """The schema version the database is at."""
        return int(self._read("SELECT MAX(version) FROM schema_version")[0][0])

    # --- journal -------------------------------------------------------------------------

    def journal_head(self, box: str) -> JournalHead | None:
        """What HQ holds of `box`'s journal, or None if nothing yet."""
        rows = self._read("SELECT log, size, head, cosignature FROM journal_head WHERE box = %s",
                          (box,))
        if not rows:
            return None
        r = rows[0]
        return JournalHead(r[0], r[1], bytes(r[2]), json.loads(r[3]))

    def journal_entries(self, box: str, start: int, end: int) -> list[StoredEntry]:
        """Stored entries with start <= seq < end, in order."""
        rows = self._read("SELECT seq, raw, hash, sig FROM journal WHERE box = %s AND seq >= %s "
                          "AND seq < %s ORDER BY seq", (box, start, end))
        return [StoredEntry(r[0], bytes(r[1]), bytes(r[2]), bytes(r[3])) for r in rows]

    def journal_append(self, box: str, log: str, expected_size: int, entries: list[StoredEntry],
                       cosignature: dict[str, Any], now_ms: int) -> bool:
        """Append entries seq expected_size… and the new cosignature, atomically; False (nothing
        written) if HQ's stored size is no longer `expected_size` (another worker was first)."""
        last = entries[-1] if entries else None
        with self._tx() as cur:
            if expected_size == 0:
                # A first append creates the head row; a concurrent creator makes this wait for
                # its COMMIT, then the conditional UPDATE below sees its size.
                cur.execute("INSERT INTO journal_head (box, log, size, head, cosignature) "
                            "VALUES (%s, %s, 0, %s, '{}') ON CONFLICT (box) DO NOTHING",
                            (box, log, b""))
            cur.execute("UPDATE journal_head SET size = %s, head = %s, cosignature = %s "
                        "WHERE box = %s AND size = %s",
                        (expected_size + len(entries), last.hash if last else b"",
                         json.dumps(cosignature), box, expected_size))
            if cur.rowcount != 1:
                return False
            cur.executemany("INSERT INTO journal (box, seq, raw, hash, sig, received_ms) "
                            "VALUES (%s, %s, %s, %s, %s, %s)",
                            [(box, e.seq, e.raw, e.hash, e.sig, now_ms) for e in entries])
            return True

    # --- alarms --------------------------------------------------------------------------

    def add_alarm(self, box: str, kind: str, seq: int, reason: str, evidence: dict[str, Any],
                  now_ms: int) -> bool:
        """Raise an alarm; False if the same (box, kind, seq) was raised before."""
        with self._tx() as cur:
            cur.execute("INSERT INTO alarms (box, kind, seq, reason, evidence, at_ms) "
                        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (box, kind, seq) DO NOTHING",
                        (box, kind, seq, _text(reason),
                         json.dumps(evidence, ensure_ascii=False), now_ms))
            return cur.rowcount == 1

    def alarms(self, box: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alarms newest first."""
        sql = "SELECT id, box, kind, seq, reason, evidence, at_ms FROM alarms"
        args: tuple[object, ...] = ()
        if box is not None:
            sql += " WHERE box = %s"
            args = (box,)
        rows = self._read(sql + " ORDER BY id DESC LIMIT %s", (*args, limit))
        return [{"id": r[0], "box": r[1], "kind": r[2], "seq": r[3], "reason": r[4],
                 "evidence": json.loads(r[5]), "at_ms": r[6]} for r in rows]

    # --- events from boxes ---------------------------------------------------------------

    def event_pos(self, box: str, stream: str) -> int:
        """The last eseq of `stream` applied (0 if none)."""
        rows = self._read("SELECT pos FROM event_streams WHERE box = %s AND stream = %s",
                          (box, stream))
        return int(rows[0][0]) if rows else 0

    def apply_events(self, box: str, stream: str, expected_pos: int, events: list[Event],
                     now_ms: int) -> bool:
        """Apply events expected_pos+1 … (job states by version, intake answers, command
        results) and advance the stream, in one transaction; False if the stream is no longer
        at `expected_pos` (another worker applied them)."""
        pos = events[-1].eseq if events else expected_pos
        with self._tx() as cur:
            if expected_pos == 0:
                cur.execute("INSERT INTO event_streams (box, stream, pos) VALUES (%s, %s, 0) "
                            "ON CONFLICT (box, stream) DO NOTHING", (box, stream))
            cur.execute("UPDATE event_streams SET pos = %s WHERE box = %s AND stream = %s "
                        "AND pos = %s", (pos, box, stream, expected_pos))
            if cur.rowcount != 1:
                return False
            for ev in events:
                if isinstance(ev, JobEvent):
                    cur.execute("INSERT INTO job_states (job_id, version, box, printer, state, "
                                "reason, at_ms, received_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                                "%s) ON CONFLICT (job_id, version) DO NOTHING",
                                (_text(ev.id), ev.version, box, _text(ev.printer),
                                 _text(ev.state), _text(ev.reason), ev.at_ms, now_ms))
                elif isinstance(ev, IntakeEvent):
                    cur.execute("UPDATE jobs SET intake = %s, intake_error = %s, intake_ms = %s "
                                "WHERE id = %s AND box = %s AND intake IS NULL",
                                (ev.result, _text(ev.error), ev.at_ms, _text(ev.id), box))
                else:
                    cur.execute("UPDATE commands SET result = %s, error = %s, result_ms = %s "
                                "WHERE nonce = %s AND box = %s AND result IS NULL",
                                (ev.result, _text(ev.error), ev.at_ms, _text(ev.nonce), box))
                    if cur.rowcount == 0 and ev.result == "refused":
                        # Not a command of ours: forged, replayed or garbled — someone's attempt.
                        cur.execute("INSERT INTO alarms (box, kind, seq, reason, evidence, at_ms)"
                                    " VALUES (%s, 'command_refused', %s, %s, %s, %s) "
                                    "ON CONFLICT (box, kind, seq) DO NOTHING",
                                    (box, ev.eseq, _text(ev.error), json.dumps(
                                        {"nonce": ev.nonce, "name": ev.name, "stream": stream}),
                                     now_ms))
            return True

    # --- cloud print jobs ----------------------------------------------------------------

    def job_create(self, job: JobRow) -> tuple[JobRow, bool]:
        """Store a new job, or return the stored one with the same id (created False)."""
        with self._tx() as cur:
            cur.execute("INSERT INTO jobs (id, box, printer, body, body_hash, expires_at_ms, "
                        "created_ms) VALUES (%s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (id) DO NOTHING",
                        (job.id, job.box, job.printer, json.dumps(job.body, ensure_ascii=False),
                         job.body_hash, job.expires_at_ms, job.created_ms))
            if cur.rowcount == 1:
                return job, True
            cur.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = %s".encode(), (job.id,))
            return _job_row(cur.fetchone()), False

    def job(self, job_id: str) -> JobRow | None:
        """The job with this id, or None."""
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = %s", (job_id,))
        return _job_row(rows[0]) if rows else None

    def job_states(self, job_id: str) -> list[dict[str, Any]]:
        """The job's state history as the box reported it, by version."""
        rows = self._read("SELECT version, state, reason, at_ms, received_ms FROM job_states "
                          "WHERE job_id = %s ORDER BY version", (job_id,))
        return [{"version": r[0], "state": r[1], "reason": r[2], "at_ms": r[3],
                 "received_ms": r[4]} for r in rows]

    def job_dispatched(self, job_id: str, now_ms: int) -> None:
        """The broker accepted the job's PUBLISH."""
        with self._tx() as cur:
            cur.execute("UPDATE jobs SET dispatched_ms = %s WHERE id = %s "
                        "AND dispatched_ms IS NULL", (now_ms, job_id))

    def jobs_recent(self, limit: int, box: str | None = None) -> list[JobRow]:
        """The newest jobs (of `box`, if given), newest first."""
        where, args = (" WHERE box = %s", (box,)) if box is not None else ("", ())
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs{where} "
                          "ORDER BY created_ms DESC, id LIMIT %s", (*args, limit))
        return [_job_row(r) for r in rows]

    def jobs_undispatched(self, now_ms: int, limit: int = 500) -> list[JobRow]:
        """Unexpired jobs the broker has not accepted yet (HQ was disconnected), oldest first."""
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE dispatched_ms IS NULL "
                          "AND expires_at_ms > %s ORDER BY created_ms, id LIMIT %s",
                          (now_ms, limit))
        return [_job_row(r) for r in rows]

    def jobs_unanswered(self, box: str, now_ms: int, limit: int = 1000) -> list[JobRow]:
        """Unexpired jobs of `box` it has not answered yet, oldest first."""
        rows = self._read(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE box = %s AND intake IS NULL "
                          "AND expires_at_ms > %s ORDER BY created_ms, id LIMIT %s",
                          (box, now_ms, limit))
        return [_job_row(r) for r in rows]

    # --- device registry -----------------------------------------------------------------

    def box_update(self, box: str,
                   fn: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> None:
        """Read-modify-write one box's registry state (a JSON object) in one transaction;
        `fn` returns the new state, or None to leave it unchanged."""
        while True:
            with self._tx() as cur:
                cur.execute("SELECT state FROM boxes WHERE id = %s FOR UPDATE", (box,))
                row = cur.fetchone()
                new = fn(json.loads(row[0]) if row else None)
                if new is None:
                    return
                state = json.dumps(new, ensure_ascii=False)
                if row is not None:
                    cur.execute("UPDATE boxes SET state = %s WHERE id = %s", (state, box))
                    return
                cur.execute("INSERT INTO boxes (id, state) VALUES (%s, %s) "
                            "ON CONFLICT (id) DO NOTHING", (box, state))
                if cur.rowcount == 1:
                    return
            # Another worker created the row between our read and insert: read it and redo.


def _job_row(r: Any) -> JobRow:
    return JobRow(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10])
