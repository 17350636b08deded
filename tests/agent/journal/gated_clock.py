"""A test clock for the journal store: readings advance 1 ms, and a gate can hold the writer."""

from __future__ import annotations

import threading

T = 1795914000000


class Clock:
    """Wall and monotonic clocks that advance 1 ms per reading; clearing `gate` stops the writer
    inside a batch (at its next wall reading) and sets `held`."""

    def __init__(self) -> None:
        self.now, self.mono_now = T, 0
        self.gate, self.held = threading.Event(), threading.Event()
        self.gate.set()

    def wall(self) -> int:
        """The next wall reading, ms since the epoch; waits while `gate` is clear."""
        if not self.gate.is_set():
            self.held.set()
        self.gate.wait()
        self.now += 1
        return self.now

    def mono(self) -> int:
        """The next monotonic reading."""
        self.mono_now += 1
        return self.mono_now
