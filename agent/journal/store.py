"""The journal store: SQLite (WAL, synchronous=FULL), one writer thread with group commit.

Callers hand records to the writer through a queue; it signs many into one transaction and
answers each caller only after COMMIT, so an acknowledged record survives a crash.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import queue
import sqlite3
import threading
import time as _time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import AgentError
from agent.journal import keys as keyfile
from agent.journal.clock import ClockGuard, mono_ms, wall_ms
from agent.journal.handoff import STOP, Appended, Request, answer
from agent.journal.signing import BatchSigner, Pending, resolve
from agent.journal.sqlite_ledger import SCHEMA, SqlLedger, check_format, read_rows
from sync.journal import RecordError
from sync.journal.canonical import parse_canonical
from sync.journal.chain import (
    build_next,
    checkpoint_of,
    cosign_body,
    day_close_body,
    genesis_entry,
    key_rotate_body,
    restore_head,
)
from sync.journal.checkpoint import (
    SignedCheckpoint,
    cosignature_time,
    origin,
    parse_note,
    sign_checkpoint,
)
from sync.journal.record import Entry, key_id, public_bytes, record_hash
from sync.journal.rules import ChainHead, Cosigners
from sync.journal.totals import signed_amount

__all__ = ["Appended", "JournalClosedError", "JournalStore", "read_rows"]


class JournalClosedError(AgentError):
    """The store is closed (or its writer died); nothing more can be appended."""


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or uuid.uuid4().hex
    except OSError:
        return uuid.uuid4().hex


AuditOf = Callable[[int], dict[str, Any]]
"""Makes the body of the `audit` record of an action from the action record's seq."""

STORE_MADE = frozenset({"genesis", "clock_set", "key_rotate", "cosign", "day_close"})
"""Record types only the store itself writes."""


def _check_appendable(type_: str) -> None:
    if type_ in STORE_MADE:
        raise RecordError("type", f"{type_} records are made by the store itself", "type")


class JournalStore:
    """An open journal: append records, make checkpoints, store cosignatures, rotate the key."""

    def __init__(self, conn: sqlite3.Connection, key_path: Path, signer: Ed25519PrivateKey,
                 head: ChainHead, *, boot: str, wall: Callable[[], int], mono: Callable[[], int],
                 cosigners: Cosigners | None, max_batch: int) -> None:
        self._conn = conn
        self._path = conn.execute("PRAGMA database_list").fetchone()[2]
        self._key_path = key_path
        self._signer = signer
        self._signer_id = key_id(public_bytes(signer))
        self._head = head
        self._committed = head
        self._boot = boot
        self._wall = wall
        self._mono = mono
        self._cosigners = cosigners
        self._max_batch = max_batch
        self._pending: list[Pending] = []
        self._signing = BatchSigner()
        self._ledger = SqlLedger(conn, self._flush)
        self._clock = ClockGuard()
        self._queue: queue.SimpleQueue[Request] = queue.SimpleQueue()
        self._closed = False
        self._lock = threading.Lock()
        self._rotating = threading.Lock()
        self.commits = 0
        """Transactions committed by the writer (group commit: records ≥ commits)."""
        self.write_error: str | None = None
        """Why the last batch could not be written (None once one commits)."""
        self.busy_since: float | None = None
        """time.monotonic() when the batch being written began (None while idle)."""
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, db_path: str | os.PathLike[str], key_path: str | os.PathLike[str], *,
             genesis: Mapping[str, str] | None = None, software: str = "storelink/0.1.0",
             log: str | None = None, boot: str | None = None,
             wall: Callable[[], int] = wall_ms, mono: Callable[[], int] = mono_ms,
             cosigners: Cosigners | None = None, max_batch: int = 512) -> JournalStore:
        """Open (or create, with a genesis record and a new key) the journal at `db_path`.

        `genesis` may name store, device and name; `wall`/`mono` are injectable clocks (ms);
        `cosigners` are HQ's keys whose cosignatures the box accepts.
        """
        kpath = Path(key_path)
        conn = sqlite3.connect(os.fspath(db_path), isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=10000")
            check_format(conn, os.fspath(db_path))
            conn.executescript(SCHEMA)
            boot_id = boot or _boot_id()
            last = conn.execute("SELECT record, hash FROM journal ORDER BY seq DESC LIMIT 1"
                                ).fetchone()
            if last is None:
                signer, _ = keyfile.load_or_create(kpath)
                entry, head = genesis_entry(log=log or os.urandom(16).hex(), time=wall(),
                                            boot=boot_id, key=signer, software=software,
                                            extra=genesis)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO journal(seq, record, hash, sig) VALUES (0, ?, ?, ?)",
                             (entry.raw.decode("utf-8"), entry.hash, entry.sig))
                conn.execute("COMMIT")
            else:
                head = cls._restore(conn, last[0].encode("utf-8"), bytes(last[1]))
                signer = cls._current_key(kpath, head.key)
        except BaseException:
            conn.close()
            raise
        return cls(conn, kpath, signer, head, boot=boot_id, wall=wall, mono=mono,
                   cosigners=cosigners, max_batch=max_batch)

    @staticmethod
    def _restore(conn: sqlite3.Connection, raw: bytes, stored: bytes) -> ChainHead:
        if record_hash(raw) != stored:
            raise AgentError("the last journal record does not match its stored hash; run "
                             "`storelink journal verify`")
        last = parse_canonical(raw)
        close = conn.execute("SELECT record FROM journal WHERE json_extract(record, '$.type') = "
                             "'day_close' ORDER BY seq DESC LIMIT 1").fetchone()
        cosigned = conn.execute("SELECT json_extract(record, '$.body.size') FROM journal WHERE "
                                "json_extract(record, '$.type') = 'cosign' ORDER BY seq DESC "
                                "LIMIT 1").fetchone()
        return restore_head(last, record_hash(raw),
                            parse_canonical(close[0].encode("utf-8")) if close else None,
                            int(cosigned[0]) if cosigned else 0)

    @staticmethod
    def _current_key(path: Path, want: str) -> Ed25519PrivateKey:
        nxt = keyfile.next_path(path)
        if nxt.exists():
            # A rotation was interrupted: keep the new key only if its record was committed.
            if key_id(public_bytes(keyfile.load_key(nxt))) == want:
                keyfile.install_next(path)
            else:
                keyfile.discard_next(path)
        key = keyfile.load_key(path)
        if key_id(public_bytes(key)) != want:
            raise keyfile.KeyFileError(f"{path}: holds key {key_id(public_bytes(key))}, but the "
                                       f"journal is signed by {want}")
        return key

    # --- callers' side -------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Requests waiting for the writer (approximate)."""
        return self._queue.qsize()

    @property
    def writer_alive(self) -> bool:
        """True while the writer thread runs and takes requests."""
        return self._thread.is_alive() and not self._closed

    @property
    def head(self) -> ChainHead:
        """The chain head after the last committed record."""
        return self._committed

    def _submit(self, request: Request) -> None:
        with self._lock:
            if self._closed:
                raise JournalClosedError("the journal is closed")
            self._queue.put(request)

    async def _call(self, kind: str, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._submit(Request(kind, args, fut, loop))
        return await fut

    def _call_sync(self, kind: str, *args: Any, timeout: float | None = None) -> Any:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._submit(Request(kind, args, fut))
        return fut.result(timeout)

    async def append(self, type_: str, body: dict[str, Any]) -> Appended:
        """Append one record; returns after it is committed. Raises RecordError if it is bad.

        `body` must not be changed until this returns.
        """
        result: Appended = await self._call("append", type_, body)
        return result

    def append_sync(self, type_: str, body: dict[str, Any], timeout: float | None = None
                    ) -> Appended:
        """Blocking append for threads and scripts (not for the event loop)."""
        result: Appended = self._call_sync("append", type_, body, timeout=timeout)
        return result

    async def append_audited(self, type_: str, body: dict[str, Any], audit: AuditOf) -> Appended:
        """Append one record and the `audit` record `audit(seq)` makes for it in one commit:
        both or neither. Returns the first; RecordError if either is bad (nothing written)."""
        result: Appended = await self._call("append_audited", type_, body, audit)
        return result

    async def day_close(self, day: str, audit: AuditOf | None = None, **extra: Any
                        ) -> tuple[Appended, SignedCheckpoint]:
        """Append a day close (Z report; period figures computed here), with `audit(seq)`'s
        record in the same commit when given, and checkpoint after it."""
        result: tuple[Appended, SignedCheckpoint] = await self._call("day_close", day, extra,
                                                                     audit)
        return result

    async def checkpoint(self) -> SignedCheckpoint:
        """Sign and store a checkpoint of the journal as it stands."""
        result: SignedCheckpoint = await self._call("checkpoint")
        return result

    async def add_cosignature(self, note: str, cosigner: str) -> Appended:
        """Check HQ's cosigned checkpoint against this chain and keep it as a cosign record."""
        result: Appended = await self._call("cosign", note, cosigner)
        return result

    async def rotate_key(self, reason: str) -> Appended:
        """Replace the signing key: the new key waits in `<key>.next` until the record commits."""
        if not self._rotating.acquire(blocking=False):
            raise AgentError("a key rotation is already in progress")
        try:
            new = Ed25519PrivateKey.generate()
            await asyncio.to_thread(keyfile.discard_next, self._key_path)
            await asyncio.to_thread(keyfile.write_key, keyfile.next_path(self._key_path), new)
            result: Appended = await self._call("rotate", new, reason)
            return result
        finally:
            self._rotating.release()

    def entries(self, start: int = 0) -> Iterator[Entry]:
        """Committed entries from `start` on (a separate read-only connection)."""
        for raw, sig, stored in read_rows(self._path, start):
            yield Entry(raw, stored or record_hash(raw), sig)

    def close(self) -> None:
        """Finish what is queued, stop the writer and close the database."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(STOP)
        self._thread.join()
        self._signing.close()
        self._conn.close()

    # --- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(r is STOP for r in batch)
            work = [r for r in batch if r is not STOP]
            try:
                self.busy_since = _time.monotonic()
                self._process(work)
                self.busy_since = None
            except BaseException as e:  # a bug must not leave callers waiting forever
                err = JournalClosedError(f"journal writer failed: {e!r}")
                with self._lock:
                    self._closed = True
                answer(work, [err] * len(work))
                raise
            if stop:
                return

    def _process(self, batch: list[Request]) -> None:
        if not batch:
            return
        head0, signer0 = self._head, self._signer
        results: list[Any] = []
        after: list[Callable[[], None]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for req in batch:
                try:
                    results.append(self._handle(req, after))
                except RecordError as e:
                    results.append(e)
            self._flush()
            self._conn.execute("COMMIT")
            self.commits += 1
            self._committed = self._head
            self.write_error = None
        except Exception as e:
            self._pending.clear()
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._head, self._signer = head0, signer0
            self._signer_id = key_id(public_bytes(signer0))
            if any(r.kind == "rotate" for r in batch):
                keyfile.discard_next(self._key_path)
            self.write_error = str(e)
            answer(batch, [AgentError(f"journal write failed: {e}")] * len(batch))
            return
        for fn in after:
            # Committed already: if this fails, the next open() finishes it (see _current_key).
            with contextlib.suppress(OSError):
                fn()
        answer(batch, [resolve(r) for r in results])

    def _write(self, type_: str, body: dict[str, Any], time: int) -> Pending:
        if self._signer_id != self._head.key:
            raise RecordError("key", "the signing key is not the chain's current key "
                              f"{self._head.key}", "key")
        built = build_next(self._head, type_=type_, body=body, time=time, boot=self._boot,
                           ledger=self._ledger, cosigners=self._cosigners)
        pending = Pending(built, self._signer, time, type_, signed_amount(type_, body))
        self._pending.append(pending)
        self._head = built.head
        return pending

    def _write_audited(self, type_: str, body: dict[str, Any], audit: AuditOf) -> Pending:
        # The record and its audit record stand or fall together: a refused audit record takes
        # the first one (and a clock_set written for them) back out of the open batch.
        head0, signer0, n0 = self._head, self._signer, len(self._pending)
        time = self._stamp()
        first = self._write(type_, body, time)
        try:
            self._write("audit", audit(first.built.head.size - 1), time)
        except RecordError:
            self._head, self._signer = head0, signer0
            del self._pending[n0:]
            raise
        return first

    def _flush(self) -> None:
        # Sign what the batch built so far (on several cores), then insert it with one
        # statement: fewer round trips, and fewer GIL hand-offs to the event loop.
        pending = self._pending
        if not pending:
            return
        sigs = self._signing.sign([(p.signer, p.built.statement) for p in pending])
        rows = []
        for p, sig in zip(pending, sigs, strict=True):
            b = p.built
            seq = b.head.size - 1
            p.appended = Appended(seq, b.hash, p.time, p.type, Entry(b.raw, b.hash, sig), p.amount)
            rows.append((seq, b.text, b.hash, sig))
        pending.clear()
        self._conn.executemany("INSERT INTO journal(seq, record, hash, sig) VALUES (?, ?, ?, ?)",
                               rows)

    def _stamp(self) -> int:
        time, clock_set = self._clock.stamp(self._wall(), self._mono(), self._head.time)
        if clock_set is not None:
            self._write("clock_set", clock_set, time)
        return time

    def _store_checkpoint(self) -> SignedCheckpoint:
        signed = sign_checkpoint(checkpoint_of(self._head), self._signer)
        self._flush()
        self._conn.execute("INSERT OR IGNORE INTO checkpoints(size, note) VALUES (?, ?)",
                           (signed.checkpoint.size, signed.text()))
        return signed

    def _handle(self, req: Request, after: list[Callable[[], None]]) -> Any:
        if req.kind == "append":
            type_, body = req.args
            _check_appendable(type_)
            return self._write(type_, body, self._stamp())
        if req.kind == "append_audited":
            type_, body, audit = req.args
            _check_appendable(type_)
            return self._write_audited(type_, body, audit)
        if req.kind == "day_close":
            day, extra, audit = req.args
            time = self._stamp()
            appended = self._write("day_close", day_close_body(self._head, day, **extra), time)
            checkpoint = self._store_checkpoint()  # ends at the day close itself
            if audit is not None:
                try:
                    self._write("audit", audit(appended.built.head.size - 1), time)
                except RecordError as e:
                    # The close is flushed already: fail the whole batch so neither stays.
                    raise AgentError(f"the day close's audit record is refused: {e}") from e
            return appended, checkpoint
        if req.kind == "checkpoint":
            return self._store_checkpoint()
        if req.kind == "cosign":
            note, cosigner = req.args
            signed = self._check_cosigned(note, cosigner)
            appended = self._write("cosign", cosign_body(signed, cosigner), self._stamp())
            self._flush()
            own = self._own_note(signed)
            both = own
            for line in signed.signatures:  # HQ's note may carry only its cosignature
                if line not in both.signatures:
                    both = both.with_signature(line)
            self._conn.execute("INSERT INTO checkpoints(size, note, cosigned) VALUES (?, ?, ?) "
                               "ON CONFLICT(size) DO UPDATE SET cosigned = excluded.cosigned",
                               (signed.checkpoint.size, own.text(), both.text()))
            return appended
        if req.kind == "rotate":
            new, reason = req.args
            appended = self._write("key_rotate", key_rotate_body(self._head, new, reason),
                                   self._stamp())
            self._signer, self._signer_id = new, key_id(public_bytes(new))
            after.append(lambda: keyfile.install_next(self._key_path))
            return appended
        raise AssertionError(req.kind)

    def _own_note(self, signed: SignedCheckpoint) -> SignedCheckpoint:
        """The box-signed note of `signed`'s checkpoint: the stored one, else signed now, so
        a cosigned checkpoint still verifies with the box's key alone (docs/journal.md §10)."""
        row = self._conn.execute("SELECT note FROM checkpoints WHERE size = ?",
                                 (signed.checkpoint.size,)).fetchone()
        if row is not None:
            stored = parse_note(row[0])
            mine = tuple(s for s in stored.signatures if s.name == origin(stored.checkpoint.log))
            if stored.checkpoint == signed.checkpoint and mine:
                return SignedCheckpoint(stored.checkpoint, mine)
        return sign_checkpoint(signed.checkpoint, self._signer)

    def _check_cosigned(self, note: str, cosigner: str) -> SignedCheckpoint:
        signed = parse_note(note)
        cp = signed.checkpoint
        if cp.log != self._head.log:
            raise RecordError("checkpoint.origin", "is another log's checkpoint", "cosign")
        keys = [pub for (name, _), pub in (self._cosigners or {}).items() if name == cosigner]
        if not any(cosignature_time(signed, cosigner, pub) is not None for pub in keys):
            raise RecordError("checkpoint.signatures", f"no valid cosignature by {cosigner}",
                                "cosign")
        if cp.size < 1 or self._ledger.hash_at(cp.size - 1) != cp.head:
            raise RecordError("checkpoint.head", "does not match this journal: HQ saw another "
                                "history", "fork")
        return signed
