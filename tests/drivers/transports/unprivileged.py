"""Running a block of a transport test as nobody, so root's power to open any file is gone."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.transports.base import TransportError
from drivers.transports.open import Target, open_transport


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


def refused(path: Path, target: Target) -> TransportError:
    """The error of opening `target` as nobody when its device `path` is an unreadable file."""
    path.write_bytes(b"")
    path.chmod(0)
    with unprivileged(), pytest.raises(TransportError) as info:
        open_transport(target)
    return info.value
