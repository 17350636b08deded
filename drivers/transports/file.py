"""Printing through a device file such as /dev/usb/lp0 (the kernel's usblp), a FIFO or a file."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import stat
import threading
import time
from dataclasses import dataclass

from drivers import InvalidInput
from drivers.transports.base import TransportError, not_open


@dataclass(frozen=True)
class FileTarget:
    """A path to write print data to; it must already exist (it is never created)."""

    path: str
    write_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.path:
            raise InvalidInput("path", "must not be empty")
        if self.write_timeout <= 0:
            raise InvalidInput("write_timeout", "must be positive")


def write_fd(fd: int, data: bytes, timeout: float) -> int:
    """Write `data` to a non-blocking descriptor; return how much went out before `timeout`.

    A timeout is reported only when bytes are left over: nothing written is ever in doubt.
    """
    view = memoryview(data)
    deadline = time.monotonic() + timeout
    while view:
        remaining = deadline - time.monotonic()
        _, ready, _ = select.select([], [fd], [], max(remaining, 0.0))
        if not ready:
            break
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[n:]
    return len(data) - len(view)


class FileTransport:
    """Writes to a character device, FIFO or regular file; reads only from character devices.

    The path is never created: writing to a missing /dev/usb/lp0 as root would otherwise
    make a regular file there and every later job would vanish into it.
    """

    def __init__(self, target: FileTarget) -> None:
        self.target = target
        self.description = f"file://{target.path}"
        self._fd: int | None = None
        self._readable = False
        self._closed = threading.Event()

    def open(self) -> None:
        """Open the existing path: character devices read-write, FIFOs and files write-only."""
        if self._fd is not None:
            return
        path = self.target.path
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError as e:
            raise TransportError(
                "not_found", f"{path} does not exist: is the printer plugged in and on? ({e})"
            ) from e
        except OSError as e:
            raise self._open_error(e) from e
        if stat.S_ISDIR(mode):
            raise TransportError("not_found", f"{path} is a directory, not a printer device")
        flags = os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            if stat.S_ISCHR(mode):
                try:
                    fd = os.open(path, os.O_RDWR | flags)
                    self._readable = True
                except OSError as e:
                    # Write permission alone is enough to print; status reads are a bonus.
                    if e.errno not in (errno.EACCES, errno.EINVAL, errno.EROFS, errno.EOPNOTSUPP):
                        raise
                    fd = os.open(path, os.O_WRONLY | flags)
                    self._readable = False
            else:
                # A FIFO opened write-only fails with ENXIO when nobody reads it.
                append = os.O_APPEND if stat.S_ISREG(mode) else 0
                fd = os.open(path, os.O_WRONLY | append | flags)
                self._readable = False
        except OSError as e:
            raise self._open_error(e) from e
        self._fd = fd
        self._closed.clear()

    def _open_error(self, e: OSError) -> TransportError:
        path = self.target.path
        if e.errno in (errno.EACCES, errno.EPERM):
            return TransportError(
                "permission",
                f"no permission to open {path}: install systemd/99-storelink-printers.rules "
                "(cp to /etc/udev/rules.d, udevadm control --reload, udevadm trigger) and add the "
                f"storelink user to the lp group ({e})",
            )
        if e.errno == errno.ENXIO:
            return TransportError("unreachable", f"nothing is reading {path} ({e})")
        if e.errno in (errno.ENOENT, errno.ENODEV):
            return TransportError("not_found", f"{path} is gone: {e}")
        if e.errno == errno.EBUSY:
            return TransportError("busy", f"{path} is held by another program: {e}")
        return TransportError("unreachable", f"cannot open {path}: {e}")

    def write(self, data: bytes) -> None:
        """Write all of `data` within write_timeout, waiting while the device is not ready."""
        fd = self._require()
        try:
            sent = write_fd(fd, data, self.target.write_timeout)
        except OSError as e:
            self.close()
            raise self._lost(e) from e
        if sent < len(data):
            raise TransportError(
                "timeout",
                f"{self.description} took no more data for {self.target.write_timeout:g} s "
                f"({sent} of {len(data)} bytes written)",
            )

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return what the device sends within `timeout`; b"" for paths that cannot answer."""
        fd = self._require()
        if not self._readable:
            self._closed.wait(max(timeout, 0.0))
            return b""
        try:
            ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
            if not ready:
                return b""
            data = os.read(fd, max_bytes)
        except BlockingIOError:
            return b""
        except OSError as e:
            self.close()
            raise self._lost(e) from e
        if not data:
            self.close()
            raise TransportError("disconnected", f"{self.description} reached end of file")
        return data

    def close(self) -> None:
        """Close the file; idempotent."""
        fd, self._fd = self._fd, None
        self._closed.set()
        if fd is not None:
            # A vanished device still releases the descriptor.
            with contextlib.suppress(OSError):
                os.close(fd)

    def _lost(self, e: OSError) -> TransportError:
        return TransportError("disconnected", f"{self.description} went away: {e}")

    def _require(self) -> int:
        if self._fd is None:
            raise not_open(self.description)
        return self._fd
