"""Running a block of a transport test as nobody, so root's power to open any file is gone."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Run the block without root's power to open any file (as nobody), if we are root."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
