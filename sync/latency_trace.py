"""Hand-over timestamps for the cloud print latency bench (bench/bench_sync.py --trace): off
unless the environment names a file in STORELINK_LATENCY_TRACE when the process starts; then
each `mark(stage)` appends one line `<unix ns> <pid> <stage>` to it."""

from __future__ import annotations

import os
import threading
import time
from typing import TextIO

ENV = "STORELINK_LATENCY_TRACE"


class _Sink:
    """The trace file, opened at the first mark."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.out: TextIO | None = None

    def write(self, line: str) -> None:
        with self.lock:
            if self.out is None:
                assert self.path is not None
                # Line-buffered appends: each mark is one write of a few dozen bytes, atomic
                # between the processes sharing the file.
                self.out = open(self.path, "a", buffering=1, encoding="ascii")  # noqa: SIM115
            self.out.write(line)


_SINK = _Sink(os.environ.get(ENV) or None)


def mark(stage: str) -> None:
    """Note that the job on its way reached `stage` now (a no-op unless tracing is on)."""
    if _SINK.path is not None:
        _SINK.write(f"{time.time_ns()} {os.getpid()} {stage}\n")
