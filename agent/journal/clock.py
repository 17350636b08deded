"""The clock guard: record times never go back unless a clock_set record says so (pure)."""

from __future__ import annotations

import time
from typing import Any


def wall_ms() -> int:
    """The wall clock (UTC) in milliseconds."""
    return time.time_ns() // 1_000_000


def mono_ms() -> int:
    """A monotonic clock in milliseconds (does not jump when the wall clock is set)."""
    return time.monotonic_ns() // 1_000_000


class ClockGuard:
    """Stamps records and notices wall-clock jumps by comparing the wall clock with a monotonic one.

    A jump back below the last record's time always yields a clock_set; within one process any
    jump larger than `tolerance_ms` in either direction does too (NTP slewing stays below it).
    """

    def __init__(self, tolerance_ms: int = 2000) -> None:
        self._tolerance = tolerance_ms
        self._offset: int | None = None

    def stamp(self, wall: int, mono: int, last_time: int) -> tuple[int, dict[str, Any] | None]:
        """The time for the next record, and the body of a clock_set to write first (or None)."""
        expected = None if self._offset is None else mono + self._offset
        self._offset = wall - mono
        if wall < last_time:
            start = expected if expected is not None and expected > last_time else last_time
            return wall, {"from": start, "to": wall, "reason": "backward_jump"}
        if expected is not None and abs(wall - expected) > self._tolerance:
            reason = "backward_jump" if wall < expected else "forward_jump"
            return wall, {"from": max(expected, 0), "to": wall, "reason": reason}
        return wall, None
