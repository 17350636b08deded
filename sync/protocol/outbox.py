"""The upload window (pure) and the durable outbox (SQLite) behind every box → HQ stream.

A stream is a dense sequence of items (journal records seq 0, 1, …; events eseq 1, 2, …),
counted from its start. The window decides which range to send next; only HQ's
application-level acknowledgement moves it forward — never a PUBACK — and the durable outbox
deletes or advances only on that acknowledgement.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from sync import SyncError
from sync.durable_sqlite import immediate, open_durable


@dataclass(frozen=True)
class Window:
    """Where one stream stands, in counts of items: `acked` by HQ, `resume` where HQ wants the
    stream to continue, `sent` handed to MQTT in this attempt, `head` available locally."""

    acked: int = 0
    head: int = 0
    sent: int = 0
    resume: int = 0
    progress_ms: int = 0
    batch: int = 500
    max_inflight: int = 2000
    timeout_ms: int = 15_000

    @property
    def pending(self) -> int:
        """Items not yet acknowledged."""
        return max(0, self.head - self.acked)


def start(acked: int, head: int, now_ms: int, *, batch: int = 500, max_inflight: int = 2000,
          timeout_ms: int = 15_000) -> Window:
    """A window after (re)connecting: everything beyond `acked` is to be sent."""
    return Window(acked, max(head, acked), acked, acked, now_ms, batch, max_inflight, timeout_ms)


def grow(w: Window, head: int) -> Window:
    """More items are available locally."""
    return replace(w, head=max(w.head, head))


def next_range(w: Window, now_ms: int) -> tuple[Window, tuple[int, int] | None]:
    """The next half-open range [start, end) of items to send, or None: nothing new, too much
    in flight, or waiting for an acknowledgement.

    Nothing acknowledged within `timeout_ms` of the last progress rewinds to `resume`, so a
    batch lost anywhere (a broker restart, an HQ worker killed) is sent again.
    """
    if w.sent > w.resume and now_ms - w.progress_ms >= w.timeout_ms:
        w = replace(w, sent=w.resume, progress_ms=now_ms)
    if w.sent >= w.head or w.sent - w.resume >= w.max_inflight:
        return w, None
    first = w.sent
    end = min(w.head, first + w.batch, w.resume + w.max_inflight)
    if w.sent == w.resume:
        w = replace(w, progress_ms=now_ms)
    return replace(w, sent=end), (first, end)


def acknowledged(w: Window, count: int, now_ms: int) -> Window:
    """HQ holds the first `count` items (cumulative; stale or repeated acks are no-ops)."""
    if count <= w.resume:
        return w
    return replace(w, acked=max(w.acked, count), resume=count, sent=max(w.sent, count),
                   head=max(w.head, count), progress_ms=now_ms)


def resend_from(w: Window, count: int, now_ms: int) -> Window:
    """HQ holds exactly the first `count` items: continue from there."""
    return replace(w, resume=count, sent=count, acked=max(w.acked, min(count, w.head)),
                   progress_ms=now_ms)


def held_only(w: Window, count: int, now_ms: int) -> Window:
    """HQ answers that it holds only the first `count` items: continue from there — but never
    from below what HQ acknowledged before, for with several HQ workers sharing the stream an
    answer can be overtaken by a later one (a worker that read the position before another
    worker's commit), and items below `acked` may be gone from the outbox."""
    return resend_from(w, max(count, w.acked), now_ms)


def disconnected(w: Window) -> Window:
    """The link dropped: whatever was in flight is sent again after reconnecting."""
    return replace(w, sent=w.resume)


class OutboxError(SyncError):
    """The outbox database could not be opened or written; nothing of the call was kept."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (eseq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (ns TEXT NOT NULL, key TEXT NOT NULL, ival INTEGER,
                               tval TEXT, PRIMARY KEY (ns, key));
"""

KvUpdate = tuple[str, str, int | None, str | None]
"""(namespace, key, integer value, text value) written in the same transaction."""


class DurableOutbox:
    """Events awaiting HQ's acknowledgement, plus small durable state (cursors, counters) kept
    in the same SQLite file (WAL, synchronous=FULL). Blocking: call it from a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = open_durable(path, busy_timeout_ms=5000)
            self._conn.executescript(_SCHEMA)
            stream = self.text("outbox", "stream")
            if stream is None:
                stream = secrets.token_urlsafe(16)
                self._write([], [("outbox", "stream", None, stream)])
        except (OSError, sqlite3.Error) as e:
            raise OutboxError(f"cannot open {path}: {e}") from e
        self._stream = stream

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()

    @property
    def stream(self) -> str:
        """This outbox's event stream id (random, fixed for the life of the file; read once,
        so the event loop may ask it without waiting for a commit in another thread)."""
        return self._stream

    @contextmanager
    def _tx(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock, rolled back if the block raises; an SQLite
        error is raised as an OutboxError naming `what`."""
        with self._lock:
            try:
                with immediate(self._conn) as c:
                    yield c
            except sqlite3.Error as e:
                raise OutboxError(f"{what} failed: {e}") from e

    def _write(self, events: list[Mapping[str, object]], kv: Iterable[KvUpdate]) -> list[int]:
        with self._tx("write") as c:
            row = c.execute("SELECT max(eseq) FROM events").fetchone()
            top = max(row[0] or 0, self._number_locked("outbox", "acked") or 0)
            seqs = []
            for i, ev in enumerate(events, start=top + 1):
                c.execute("INSERT INTO events (eseq, body) VALUES (?, ?)",
                          (i, json.dumps({**ev, "eseq": i}, ensure_ascii=False)))
                seqs.append(i)
            for ns, key, ival, tval in kv:
                c.execute("INSERT OR REPLACE INTO kv (ns, key, ival, tval) VALUES (?,?,?,?)",
                          (ns, key, ival, tval))
        return seqs

    def append(self, events: list[Mapping[str, object]], kv: Iterable[KvUpdate] = ()) -> list[int]:
        """Commit events (each gets the next `eseq`) and kv updates in one transaction."""
        return self._write(events, kv)

    def put(self, kv: Iterable[KvUpdate]) -> None:
        """Commit kv updates in one transaction."""
        self._write([], kv)

    def events(self, first: int, last: int) -> list[dict[str, object]]:
        """Stored events with first <= eseq <= last, in order."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM events WHERE eseq BETWEEN ? AND ? "
                                      "ORDER BY eseq", (first, last)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def head(self) -> int:
        """The last eseq ever assigned."""
        with self._lock:
            row = self._conn.execute("SELECT max(eseq) FROM events").fetchone()
            return max(row[0] or 0, self._number_locked("outbox", "acked") or 0)

    def acked(self) -> int:
        """The last eseq HQ acknowledged."""
        return self.number("outbox", "acked") or 0

    def ack(self, upto: int) -> int:
        """HQ acknowledged events up to `upto`: forget them. Returns the new acked mark."""
        with self._tx("ack") as c:
            row = c.execute("SELECT max(eseq) FROM events").fetchone()
            done = self._number_locked("outbox", "acked") or 0
            upto = min(upto, max(row[0] or 0, done))
            if upto > done:
                c.execute("DELETE FROM events WHERE eseq <= ?", (upto,))
                c.execute("INSERT OR REPLACE INTO kv VALUES ('outbox', 'acked', ?, NULL)",
                          (upto,))
                done = upto
        return done

    def _number_locked(self, ns: str, key: str) -> int | None:
        row = self._conn.execute("SELECT ival FROM kv WHERE ns = ? AND key = ?",
                                 (ns, key)).fetchone()
        return None if row is None else row[0]

    def number(self, ns: str, key: str) -> int | None:
        """An integer kv value, or None."""
        with self._lock:
            return self._number_locked(ns, key)

    def text(self, ns: str, key: str) -> str | None:
        """A text kv value, or None."""
        with self._lock:
            row = self._conn.execute("SELECT tval FROM kv WHERE ns = ? AND key = ?",
                                     (ns, key)).fetchone()
        return None if row is None else row[0]

    def numbers(self, ns: str) -> dict[str, int]:
        """Every integer value of a namespace."""
        with self._lock:
            rows = self._conn.execute("SELECT key, ival FROM kv WHERE ns = ? AND ival IS NOT NULL",
                                      (ns,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def drop(self, ns: str, keys: Iterable[str]) -> None:
        """Delete kv entries."""
        with self._lock:
            c = self._conn
            c.execute("BEGIN IMMEDIATE")
            c.executemany("DELETE FROM kv WHERE ns = ? AND key = ?", [(ns, k) for k in keys])
            c.execute("COMMIT")
