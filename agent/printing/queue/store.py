"""The durable job store: SQLite (WAL, synchronous=FULL) written by one thread with group commit."""

from __future__ import annotations

import asyncio
import fcntl
import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

from agent import AgentError
from agent.printing.jobs import PrintJob, canonical_json
from agent.printing.queue import lifecycle as lc
from agent.printing.queue.lifecycle import Action, Job, JobState, Reason
from agent.printing.queue.writer import GroupCommitWriter, StoreError

__all__ = ["Change", "Claimed", "JobConflictError", "JobEvent", "JobNotFoundError", "Store",
           "StoreError", "Submitted"]

T = TypeVar("T")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  printer TEXT NOT NULL,
  label TEXT NOT NULL,
  body TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  version INTEGER NOT NULL,
  copies INTEGER NOT NULL,
  copies_done INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (printer, state, seq);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, seq);
CREATE TABLE IF NOT EXISTS job_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  printer TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  action TEXT NOT NULL,
  copies_done INTEGER NOT NULL,
  at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS job_events_job ON job_events (job_id, version);
CREATE TABLE IF NOT EXISTS audit_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  body TEXT NOT NULL
);
"""

_COLS = ("id, printer, state, reason, version, copies, copies_done, created_ms, updated_ms, "
         "expires_at_ms, label, seq")


class JobNotFoundError(AgentError):
    """No job with this id is known."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id


class JobConflictError(AgentError):
    """A job with this id exists with a different body; `job` is the existing one."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} already exists with a different body")
        self.job = job


class QueueFullError(AgentError):
    """The printer already has `depth` jobs waiting; the job was not stored."""

    def __init__(self, printer: str, depth: int) -> None:
        super().__init__(f"printer {printer} already has {depth} jobs waiting")
        self.printer = printer
        self.depth = depth


@dataclass(frozen=True)
class Change:
    """One committed state change of one job, with what caused it."""

    job: Job
    action: Action


@dataclass(frozen=True)
class Submitted:
    """The outcome of a submission: the job as stored, whether this call created it, and the
    job marked printing in the same transaction when its printer was idle (`claim`)."""

    job: Job
    created: bool
    claimed: Claimed | None = None


@dataclass(frozen=True)
class Claimed:
    """A job just marked printing (committed), with its stored body to render."""

    job: Job
    body: dict[str, object]


@dataclass(frozen=True)
class JobEvent:
    """One row of a job's history (the sync issue forwards these in `seq` order)."""

    seq: int
    job_id: str
    printer: str
    version: int
    state: JobState
    reason: Reason | None
    action: Action
    copies_done: int
    at_ms: int


def _row_job(row: Sequence[Any]) -> Job:
    return Job(row[0], row[1], JobState(row[2]), Reason(row[3]) if row[3] else None, row[4],
               row[5], row[6], row[7], row[8], row[9], row[10], row[11])


def _load(conn: sqlite3.Connection, job_id: str) -> Job | None:
    row = conn.execute(f"SELECT {_COLS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return _row_job(row) if row else None


def _record(conn: sqlite3.Connection, job: Job, action: Action) -> None:
    conn.execute("INSERT INTO job_events (job_id, printer, version, state, reason, action, "
                 "copies_done, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (job.id, job.printer, job.version, job.state.value,
                  job.reason.value if job.reason else None, action.value, job.copies_done,
                  job.updated_ms))


def _save(conn: sqlite3.Connection, job: Job, action: Action) -> Change:
    cur = conn.execute("UPDATE jobs SET state = ?, reason = ?, version = ?, copies_done = ?, "
                       "updated_ms = ?, expires_at_ms = ? WHERE id = ? AND version = ?",
                       (job.state.value, job.reason.value if job.reason else None, job.version,
                        job.copies_done, job.updated_ms, job.expires_at_ms, job.id,
                        job.version - 1))
    if cur.rowcount != 1:
        raise StoreError(f"job {job.id} changed underneath version {job.version - 1}")
    _record(conn, job, action)
    return Change(job, action)


def _submit(conn: sqlite3.Connection, pj: PrintJob, now_ms: int, expires_at_ms: int,
            max_depth: int | None = None, audit: dict[str, Any] | None = None,
            claim: bool = False) -> Submitted:
    row = conn.execute(f"SELECT {_COLS}, body_hash FROM jobs WHERE id = ?", (pj.id,)).fetchone()
    if row is not None:
        existing = _row_job(row)
        if row[-1] != pj.body_hash:
            raise JobConflictError(existing)
        return Submitted(existing, False)
    if max_depth is not None:
        depth = conn.execute("SELECT count(*) FROM jobs WHERE printer = ? AND state IN "
                             "('queued', 'printing')", (pj.printer,)).fetchone()[0]
        if depth >= max_depth:
            raise QueueFullError(pj.printer, depth)
    job = lc.admit(pj.id, pj.printer, pj.copies, pj.label, now_ms, expires_at_ms)
    cur = conn.execute(
        "INSERT INTO jobs (id, printer, label, body, body_hash, state, reason, version, copies, "
        "copies_done, created_ms, updated_ms, expires_at_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
        (job.id, job.printer, job.label, canonical_json(pj.body).decode(), pj.body_hash,
         job.state.value, job.version, job.copies, job.copies_done, job.created_ms,
         job.updated_ms, job.expires_at_ms))
    job = replace(job, seq=cur.lastrowid or 0)
    _record(conn, job, Action.SUBMIT)
    if audit is not None:  # committed with the job, or neither is
        conn.execute("INSERT INTO audit_outbox (body) VALUES (?)",
                     (json.dumps(audit, ensure_ascii=False),))
    return Submitted(job, True, _claim_new(conn, job, pj, now_ms) if claim else None)


def _claim_new(conn: sqlite3.Connection, job: Job, pj: PrintJob, now_ms: int) -> Claimed | None:
    """The new job marked printing in its own transaction when no other job of its printer is
    queued or printing (the order stays first in, first out)."""
    if lc.is_overdue(job, now_ms) or conn.execute(
            "SELECT 1 FROM jobs WHERE printer = ? AND state IN ('queued', 'printing') AND id != ?",
            (job.printer, job.id)).fetchone() is not None:
        return None
    change = _save(conn, lc.claim(job, now_ms), Action.CLAIM)
    return Claimed(change.job, json.loads(canonical_json(pj.body)))


def _transition(conn: sqlite3.Connection, job_id: str, fn: Callable[[Job], Job],
                action: Action) -> Change:
    job = _load(conn, job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return _save(conn, fn(job), action)


def _expire_due(conn: sqlite3.Connection, now_ms: int, printer: str | None) -> list[Change]:
    sql = f"SELECT {_COLS} FROM jobs WHERE state = 'queued' AND expires_at_ms <= ?"
    args: tuple[object, ...] = (now_ms,)
    if printer is not None:
        sql += " AND printer = ?"
        args += (printer,)
    rows = conn.execute(sql + " ORDER BY seq", args).fetchall()
    return [_save(conn, lc.expire(_row_job(r), now_ms), Action.EXPIRE) for r in rows]


def _claim_next(conn: sqlite3.Connection, printer: str,
                now_ms: int) -> tuple[list[Change], Claimed | None]:
    changes = _expire_due(conn, now_ms, printer)
    row = conn.execute(f"SELECT {_COLS}, body FROM jobs WHERE printer = ? AND state = 'queued' "
                       "ORDER BY seq LIMIT 1", (printer,)).fetchone()
    if row is None:
        return changes, None
    change = _save(conn, lc.claim(_row_job(row), now_ms), Action.CLAIM)
    changes.append(change)
    return changes, Claimed(change.job, json.loads(row[-1]))


def _recover(conn: sqlite3.Connection, now_ms: int) -> list[Change]:
    rows = conn.execute(f"SELECT {_COLS} FROM jobs WHERE state = 'printing' ORDER BY seq")
    return [_save(conn, lc.recover(_row_job(r), now_ms), Action.RECOVER) for r in rows.fetchall()]


def _prune(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    settled = ", ".join(f"'{s.value}'" for s in lc.SETTLED)
    n = conn.execute(f"DELETE FROM jobs WHERE state IN ({settled}) AND updated_ms < ?",
                     (cutoff_ms,)).rowcount
    conn.execute("DELETE FROM job_events WHERE at_ms < ? AND job_id NOT IN (SELECT id FROM jobs)",
                 (cutoff_ms,))
    return n


def _list(conn: sqlite3.Connection, states: Sequence[JobState], printer: str | None, limit: int,
          before_seq: int | None) -> list[Job]:
    where: list[str] = []
    args: list[object] = []
    if states:
        where.append(f"state IN ({', '.join('?' * len(states))})")
        args += [s.value for s in states]
    if printer is not None:
        where.append("printer = ?")
        args.append(printer)
    if before_seq is not None:
        where.append("seq < ?")
        args.append(before_seq)
    sql = f"SELECT {_COLS} FROM jobs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
    return [_row_job(r) for r in rows]


def _lock(path: Path) -> TextIO:
    """Hold `{path}.lock` exclusively: two daemons on one queue would print jobs twice."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = open(path.with_name(path.name + ".lock"), "a")  # noqa: SIM115 — held until close
    except OSError as e:
        raise StoreError(f"cannot open {path}: {e}") from e
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise StoreError(f"{path} is in use by another storelink daemon") from None
    return f


class Store:
    """Jobs and their history in `{state_dir}/queue.db`; every method returns after COMMIT."""

    def __init__(self, conn: sqlite3.Connection, path: Path, lock: TextIO) -> None:
        self.path = path
        self._lock = lock
        self._writer = GroupCommitWriter(conn)
        self._closed = False

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open or create the database (blocking; run it in a thread from async code)."""
        lock = _lock(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                raise StoreError(f"{path}: the file system does not allow WAL (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA busy_timeout = 5000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path} has schema {version}, newer than this program")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error, StoreError) as e:
            lock.close()
            raise StoreError(f"cannot open {path}: {e}") from e
        return cls(conn, path, lock)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        if self._closed:
            raise StoreError("the store is closed")
        return asyncio.wrap_future(self._writer.submit(fn))

    async def close(self) -> None:
        """Finish queued operations and close the database."""
        if not self._closed:
            self._closed = True
            await asyncio.to_thread(self._writer.close)
            self._lock.close()

    async def submit(self, job: PrintJob, now_ms: int, expires_at_ms: int,
                     max_depth: int | None = None, audit: dict[str, Any] | None = None,
                     claim: bool = False) -> Submitted:
        """Insert a new job, or return the stored one for the same id and body (JobConflictError if
        the body differs; QueueFullError if its printer has `max_depth` jobs waiting). A new
        job's `audit` record body is committed with it into the audit outbox; with `claim`, a
        new job no other job of its printer waits before is marked printing in the same
        transaction (Submitted.claimed)."""
        return await self._call(lambda c: _submit(c, job, now_ms, expires_at_ms, max_depth,
                                                  audit, claim))

    async def audit_outbox(self, limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """Audit record bodies committed with their action, not yet in the journal (oldest
        first)."""
        def op(c: sqlite3.Connection) -> list[tuple[int, dict[str, Any]]]:
            rows = c.execute("SELECT seq, body FROM audit_outbox ORDER BY seq LIMIT ?",
                             (limit,)).fetchall()
            return [(r[0], json.loads(r[1])) for r in rows]
        return await self._call(op)

    async def audit_keep(self, body: dict[str, Any]) -> None:
        """Add an audit record body to the outbox on its own."""
        text = json.dumps(body, ensure_ascii=False)
        await self._call(lambda c: c.execute("INSERT INTO audit_outbox (body) VALUES (?)",
                                             (text,)))

    async def audit_sent(self, seqs: list[int]) -> None:
        """The outbox rows `seqs` are in the journal now (one transaction)."""
        await self._call(lambda c: c.executemany("DELETE FROM audit_outbox WHERE seq = ?",
                                                 [(q,) for q in seqs]))

    async def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return await self._call(lambda c: _load(c, job_id))

    async def body(self, job_id: str) -> dict[str, object] | None:
        """The job's stored JSON body, or None."""
        def op(c: sqlite3.Connection) -> dict[str, object] | None:
            row = c.execute("SELECT body FROM jobs WHERE id = ?", (job_id,)).fetchone()
            return json.loads(row[0]) if row else None
        return await self._call(op)

    async def list_jobs(self, states: Sequence[JobState] = (), printer: str | None = None,
                   limit: int = 50, before_seq: int | None = None) -> list[Job]:
        """Jobs newest first (by seq), optionally filtered by state and printer."""
        return await self._call(lambda c: _list(c, states, printer, limit, before_seq))

    async def transition(self, job_id: str, fn: Callable[[Job], Job], action: Action) -> Change:
        """Apply a pure lifecycle step to the stored job and commit it (JobNotFoundError,
        IllegalTransitionError)."""
        return await self._call(lambda c: _transition(c, job_id, fn, action))

    async def claim_next(self, printer: str, now_ms: int) -> tuple[list[Change], Claimed | None]:
        """Expire this printer's overdue jobs, then mark its oldest queued job printing."""
        return await self._call(lambda c: _claim_next(c, printer, now_ms))

    async def expire_due(self, now_ms: int, printer: str | None = None) -> list[Change]:
        """Mark every queued job past its expiry expired."""
        return await self._call(lambda c: _expire_due(c, now_ms, printer))

    async def recover(self, now_ms: int) -> list[Change]:
        """At startup: every job left printing becomes unknown."""
        return await self._call(lambda c: _recover(c, now_ms))

    async def prune(self, cutoff_ms: int) -> int:
        """Forget settled jobs (and their history) last changed before `cutoff_ms`."""
        return await self._call(lambda c: _prune(c, cutoff_ms))

    async def depths(self) -> dict[str, int]:
        """Queued jobs per printer."""
        def op(c: sqlite3.Connection) -> dict[str, int]:
            rows = c.execute("SELECT printer, count(*) FROM jobs WHERE state = 'queued' "
                             "GROUP BY printer").fetchall()
            return {r[0]: r[1] for r in rows}
        return await self._call(op)

    async def counts(self) -> dict[str, int]:
        """Jobs per state."""
        def op(c: sqlite3.Connection) -> dict[str, int]:
            rows = c.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall()
            return {r[0]: r[1] for r in rows}
        return await self._call(op)

    async def history(self, job_id: str | None = None, after_seq: int = 0,
                      limit: int = 1000) -> list[JobEvent]:
        """Job history rows in order, for one job or all jobs after `after_seq`."""
        def op(c: sqlite3.Connection) -> list[JobEvent]:
            sql = ("SELECT seq, job_id, printer, version, state, reason, action, copies_done, "
                   "at_ms FROM job_events WHERE seq > ?")
            args: tuple[object, ...] = (after_seq,)
            if job_id is not None:
                sql += " AND job_id = ?"
                args += (job_id,)
            rows = c.execute(sql + " ORDER BY seq LIMIT ?", (*args, limit)).fetchall()
            return [JobEvent(r[0], r[1], r[2], r[3], JobState(r[4]),
                             Reason(r[5]) if r[5] else None, Action(r[6]), r[7], r[8])
                    for r in rows]
        return await self._call(op)
