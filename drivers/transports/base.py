"""The transport contract, its error, and the two helpers every printer driver uses on top of it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal, Protocol, get_args, runtime_checkable

from drivers import DriverError, InvalidInput

Reason = Literal["unreachable", "timeout", "busy", "permission", "disconnected", "not_found"]
REASONS: frozenset[str] = frozenset(get_args(Reason))

# Upper bound on reads spent discarding stale input before a query; a device that keeps talking
# (ASB pushes, a scanner on the same line) must not keep the query from ever being sent.
_DRAIN_MAX_READS = 64
_DRAIN_READ_SIZE = 4096


class TransportError(DriverError):
    """A device could not be reached or stopped answering; `reason` says which way it failed."""

    def __init__(self, reason: Reason, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown transport error reason {reason!r}")
        super().__init__(f"{reason}: {message}")
        self.reason: Reason = reason
        self.message = message


class Transport(Protocol):
    """A blocking byte pipe to one device; callers run it in a worker thread."""

    @property
    def description(self) -> str:
        """Where the device is, as a URL-like string, e.g. "tcp://192.168.1.50:9100"."""
        ...

    def open(self) -> None:
        """Connect to the device; raise TransportError if that is impossible."""
        ...

    def write(self, data: bytes) -> None:
        """Send all of `data` or raise TransportError (the timeout applies per call)."""
        ...

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return 1..max_bytes bytes, or b"" when nothing arrived within `timeout` seconds."""
        ...

    def close(self) -> None:
        """Release the device; calling it again does nothing."""
        ...


def not_open(description: str) -> TransportError:
    """The error for an operation on a transport that is closed or was never opened."""
    return TransportError("disconnected", f"{description} is not open")


def chunk_bytes(data: bytes, size: int) -> list[bytes]:
    """Split `data` into pieces of at most `size` bytes (none for empty data)."""
    if size < 1:
        raise InvalidInput("size", "must be at least 1")
    return [data[i : i + size] for i in range(0, len(data), size)]


def write_chunks(
    t: Transport,
    chunks: Sequence[bytes],
    pause_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Write the chunks in order, pausing `pause_s` between them so a slow printer catches up."""
    if pause_s < 0:
        raise InvalidInput("pause_s", "must not be negative")
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        if not first and pause_s > 0:
            sleep(pause_s)
        t.write(chunk)
        first = False


@runtime_checkable
class OutputQueue(Protocol):
    """A transport that can tell how many written bytes the device has not taken yet."""

    def unsent(self) -> int | None:
        """Bytes written but not yet taken by the device (None if unknown)."""
        ...


def unsent_bytes(t: Transport) -> int | None:
    """How many written bytes `t`'s device has not taken yet; None where the transport cannot
    tell (a busy printer is told from a silent one by these bytes draining)."""
    return t.unsent() if isinstance(t, OutputQueue) else None


def drain(t: Transport) -> int:
    """Discard input already waiting (a late answer to an earlier query); return how much."""
    dropped = 0
    for _ in range(_DRAIN_MAX_READS):
        stale = t.read(_DRAIN_READ_SIZE, 0.0)
        if not stale:
            break
        dropped += len(stale)
    return dropped


def query(t: Transport, request: bytes, reply_len: int, timeout: float) -> bytes | None:
    """Send `request`, collect up to `reply_len` reply bytes over several reads; None if none came.

    Input already waiting is discarded first, so a late answer to an earlier query is not taken
    for this one. A reply cut short by the deadline is returned as it is; the caller's parser
    judges it.
    """
    if reply_len < 1:
        raise InvalidInput("reply_len", "must be at least 1")
    if timeout < 0:
        raise InvalidInput("timeout", "must not be negative")
    drain(t)
    t.write(request)
    deadline = time.monotonic() + timeout
    got = bytearray()
    while len(got) < reply_len:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        got += t.read(reply_len - len(got), remaining)
    return bytes(got) if got else None
