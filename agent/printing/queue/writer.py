"""One thread owns an SQLite connection and commits whatever is waiting in one transaction."""

from __future__ import annotations

import concurrent.futures
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from agent import AgentError
from sync.latency_trace import mark

T = TypeVar("T")
MAX_BATCH = 256


class StoreError(AgentError):
    """The database could not be opened or a commit failed; nothing of the operation was kept."""


class _Op(Generic[T]):
    """One operation and the future its caller waits on."""

    def __init__(self, fn: Callable[[sqlite3.Connection], T]) -> None:
        self.fn = fn
        self.future: concurrent.futures.Future[T] = concurrent.futures.Future()


class GroupCommitWriter(threading.Thread):
    """The only thread touching the connection: runs queued operations, many per transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(name="queue-store", daemon=True)
        self.conn = conn
        self.ops: queue.SimpleQueue[_Op[Any] | None] = queue.SimpleQueue()
        self.start()

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> concurrent.futures.Future[T]:
        """Queue `fn` (run inside a transaction); the future resolves after COMMIT."""
        op = _Op(fn)
        self.ops.put(op)
        return op.future

    def close(self) -> None:
        """Run what is queued, close the connection and end the thread (blocking)."""
        self.ops.put(None)
        self.join()

    def run(self) -> None:
        stop = False
        while not stop:
            first = self.ops.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self.ops.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(batch)
        self.conn.close()

    def _run_batch(self, ops: list[_Op[Any]]) -> None:
        # An operation whose caller gave up before it started is skipped, not run unseen.
        batch = [op for op in ops if op.future.set_running_or_notify_cancel()]
        if not batch:
            return
        # Each operation runs in its own savepoint so one refused operation (a 409, an illegal
        # transition) does not undo the others; results are released only after COMMIT.
        outcomes: list[tuple[bool, object]] = []
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                conn.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, op.fn(conn)))
                except Exception as e:  # handed to the caller's future
                    conn.execute("ROLLBACK TO op")
                    outcomes.append((False, e))
                conn.execute("RELEASE op")
            conn.execute("COMMIT")
            mark("queue.commit")
        except Exception as e:  # every waiting caller must hear of it
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            for op in batch:
                op.future.set_exception(StoreError(f"commit failed: {e}"))
            return
        for op, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                op.future.set_result(value)
            else:
                assert isinstance(value, BaseException)
                op.future.set_exception(value)
