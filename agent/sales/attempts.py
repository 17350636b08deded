"""Failed approval attempts: one counter per supervisor and one for all, kept in SQLite across
restarts, with an exponential back-off instead of a lock.

Every wrong credential counts against the global counter, and against the named supervisor's
when the request names one. An attempt is checked only when neither counter asks it to wait:
after `free` failures in a row a counter asks for 1 s, then 2, 4, … up to `MAX_WAIT_S` from its
last failure. A wait never grows while it runs (an attempt refused for waiting is not checked
and not counted), so nobody can lock supervisors out for longer than `MAX_WAIT_S` after their
own last failure — and a supervisor's badge scanned at one of the box's scanners (which can
only hold a recognised credential, never a guess) is not made to wait at all. A correct
credential clears its supervisor's counter and the global one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SUPERVISOR_FREE = 3
"""Failures in a row one supervisor's counter allows before it asks to wait."""
GLOBAL_FREE = 6
"""Failures in a row the counter of all attempts allows (the free tries of every way in)."""
MAX_WAIT_S = 300.0
GLOBAL = "*"


def supervisor_slot(supervisor: str) -> str:
    """The counter of one supervisor."""
    return f"supervisor:{supervisor}"


def free_failures(slot: str) -> int:
    """How many failures in a row `slot` allows without a wait."""
    return GLOBAL_FREE if slot == GLOBAL else SUPERVISOR_FREE


def wait_s(failures: int, free: int) -> float:
    """Seconds to wait after `failures` in a row: none for the first `free`, then 1, 2, 4, …
    seconds, at most MAX_WAIT_S."""
    if failures < free:
        return 0.0
    return min(2.0 ** min(failures - free, 30), MAX_WAIT_S)


@dataclass(frozen=True)
class Counter:
    """Failures in a row of one slot and the wall time of the last one (ms)."""

    slot: str
    failures: int = 0
    last_ms: int = 0

    def remaining_ms(self, now_ms: int) -> int:
        """How long an attempt must still wait (0: it may be checked).

        Bounded by the wait itself, so a wall clock set back does not stretch it.
        """
        wait_ms = int(wait_s(self.failures, free_failures(self.slot)) * 1000)
        return max(0, min(self.last_ms + wait_ms - now_ms, wait_ms))


class AttemptLog:
    """The counters in SQLite at `path` (None: in memory); blocking, call from a thread."""

    def __init__(self, path: Path | None = None) -> None:
        self._conn = sqlite3.connect(":memory:" if path is None else str(path),
                                     isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.execute("CREATE TABLE IF NOT EXISTS approval_failures (slot TEXT PRIMARY KEY,"
                           " failures INTEGER NOT NULL, last_ms INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def counters(self, slots: Iterable[str]) -> list[Counter]:
        """The counters of `slots` (zero for a slot that never failed)."""
        with self._lock:
            out = []
            for slot in slots:
                row = self._conn.execute("SELECT failures, last_ms FROM approval_failures "
                                         "WHERE slot = ?", (slot,)).fetchone()
                out.append(Counter(slot, *row) if row else Counter(slot))
            return out

    def fail(self, slots: Iterable[str], now_ms: int) -> list[Counter]:
        """Count one failure against each of `slots` (one transaction); the new counters."""
        names = list(slots)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for slot in names:
                    self._conn.execute(
                        "INSERT INTO approval_failures VALUES (?, 1, ?) ON CONFLICT(slot) DO "
                        "UPDATE SET failures = failures + 1, last_ms = excluded.last_ms",
                        (slot, now_ms))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return self.counters(names)

    def clear(self, slots: Iterable[str]) -> None:
        """Forget the failures of `slots` (a correct credential)."""
        with self._lock:
            self._conn.executemany("DELETE FROM approval_failures WHERE slot = ?",
                                   [(s,) for s in slots])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
