"""Fixtures of the simulator tests."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from drivers.fonts import cjk_font
from tests.drivers.polling import wait_for


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """The test leaves no thread running and no file descriptor open."""
    cjk_font(22)  # the cached font keeps its file open; load it before counting fds
    threads = set(threading.enumerate())
    fds = set(os.listdir("/proc/self/fd"))
    yield
    wait_for(lambda: set(threading.enumerate()) <= threads, "threads to end")
    leaked = set(os.listdir("/proc/self/fd")) - fds
    assert not leaked, f"leaked fds {leaked}"
