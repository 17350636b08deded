"""A small thread-safe pool of PostgreSQL connections for `PostgresStore`, made on demand.

Every call either gets a working connection at once or fails at once: a connection is checked
(one empty query) when taken, a broken one is dropped rather than reused, and a new one is
opened only when needed — so while the database is down calls fail promptly, and the first
call after it is back succeeds, with no background reconnection to wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from hq.store import StoreError


class ConnectionPool:
    """At most `size` autocommit connections to `url`."""

    def __init__(self, url: str, size: int, connect_timeout_s: int, busy_wait_s: float) -> None:
        self._url = url
        self._size = size
        self._connect_timeout_s = connect_timeout_s
        self._busy_wait_s = busy_wait_s
        self._idle: list[psycopg.Connection[Any]] = []
        self._open = 0
        self._closed = False
        self._cv = threading.Condition()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self._url, autocommit=True,
                               connect_timeout=self._connect_timeout_s)

    def _take(self) -> psycopg.Connection[Any] | None:
        """An idle connection, or None with a slot reserved for a new one."""
        with self._cv:
            if not self._cv.wait_for(lambda: self._closed or self._idle
                                     or self._open < self._size, self._busy_wait_s):
                raise StoreError(f"all {self._size} database connections busy for "
                                 f"{self._busy_wait_s:g} s")
            if self._closed:
                raise StoreError("the store is closed")
            if self._idle:
                return self._idle.pop()
            self._open += 1
            return None

    def _drop(self, conn: psycopg.Connection[Any] | None) -> None:
        if conn is not None:
            conn.close()
        with self._cv:
            self._open -= 1
            self._cv.notify()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """Borrow a working connection (psycopg.Error if none can be made)."""
        conn = self._take()
        if conn is not None:
            try:
                conn.execute(b"")
            except psycopg.Error:
                conn.close()  # stale (the server restarted): open a new one in its slot
                conn = None
        if conn is None:
            try:
                conn = self._connect()
            except BaseException:
                self._drop(None)
                raise
        try:
            yield conn
        finally:
            if conn.broken or conn.closed \
                    or conn.info.transaction_status != TransactionStatus.IDLE:
                self._drop(conn)
            else:
                with self._cv:
                    if self._closed:
                        conn.close()
                    else:
                        self._idle.append(conn)
                    self._cv.notify()

    def close(self) -> None:
        """Close the idle connections now, the borrowed ones when they come back."""
        with self._cv:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cv.notify_all()
        for conn in idle:
            conn.close()
