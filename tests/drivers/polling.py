"""Waiting in driver tests: a condition polled until it holds, bytes read until they arrived."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable

DEADLINE_S = 30.0


def wait_for(condition: Callable[[], bool], what: str = "the condition") -> None:
    """Poll `condition` until it holds; fail naming `what` after a generous deadline."""
    end = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def read_exactly(fd: int, n: int) -> bytes:
    """Read exactly `n` bytes from `fd`; fail with what arrived after the deadline."""
    got = b""
    end = time.monotonic() + DEADLINE_S
    while len(got) < n:
        assert time.monotonic() < end, f"only {got!r} arrived"
        if select.select([fd], [], [], 0.05)[0]:
            got += os.read(fd, n - len(got))
    return got
