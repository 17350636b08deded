"""Serial printers (RS-232, USB-serial adapters, USB-CDC) through pyserial."""

from __future__ import annotations

import contextlib
import errno
import select
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from drivers import InvalidInput
from drivers.transports.base import TransportError, not_open
from drivers.transports.file import write_fd

if TYPE_CHECKING:
    import serial

Flow = Literal["none", "rtscts", "xonxoff", "dsrdtr"]
# pyserial's own values of PARITY_*, *BITS and STOPBITS_* (tests/drivers/transports check it).
_PARITIES = ("N", "E", "O", "M", "S")
_BYTESIZES = (5, 6, 7, 8)
_STOPBITS = (1, 1.5, 2)
_FLOWS = ("none", "rtscts", "xonxoff", "dsrdtr")


@dataclass(frozen=True)
class SerialTarget:
    """A serial port and its line settings; prefer stable /dev/serial/by-id/... paths."""

    device: str
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    flow: Flow = "none"
    write_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.device:
            raise InvalidInput("device", "must not be empty")
        if self.baudrate <= 0:
            raise InvalidInput("baudrate", "must be positive")
        if self.bytesize not in _BYTESIZES:
            raise InvalidInput("bytesize", f"{self.bytesize} is not one of 5, 6, 7, 8")
        if self.parity not in _PARITIES:
            raise InvalidInput("parity", f"{self.parity!r} is not one of N, E, O, M, S")
        if self.stopbits not in _STOPBITS:
            raise InvalidInput("stopbits", f"{self.stopbits} is not one of 1, 1.5, 2")
        if self.flow not in _FLOWS:
            raise InvalidInput("flow", f"{self.flow!r} is not one of {', '.join(_FLOWS)}")
        if self.write_timeout <= 0:
            raise InvalidInput("write_timeout", "must be positive")


class SerialTransport:
    """A blocking serial connection, opened exclusively so two processes never interleave jobs."""

    def __init__(self, target: SerialTarget, *, role: str = "printer") -> None:
        self.target = target
        self.role = role
        """What is on the port (printer, scanner, customer display), as error messages say."""
        t = target
        self.description = (
            f"serial://{t.device}?baud={t.baudrate}&mode={t.bytesize}{t.parity}{t.stopbits:g}"
            f"&flow={t.flow}"
        )
        self._port: serial.Serial | None = None

    def open(self) -> None:
        """Open and configure the port; missing, forbidden and locked ports get distinct reasons."""
        if self._port is not None:
            return
        import serial  # pyserial: loaded when a serial device is first opened (idle memory)

        t = self.target
        # pyserial's PARITY_*, *BITS and STOPBITS_* constants are these very values.
        port = serial.Serial(
            port=None,
            baudrate=t.baudrate,
            bytesize=t.bytesize,
            parity=t.parity,
            stopbits=t.stopbits,
            xonxoff=t.flow == "xonxoff",
            rtscts=t.flow == "rtscts",
            dsrdtr=t.flow == "dsrdtr",
            timeout=0,
            exclusive=True,
        )
        port.port = t.device
        try:
            port.open()
        except OSError as e:  # pyserial's SerialException is an OSError
            raise self._open_error(e) from e
        self._port = port

    def _open_error(self, e: Exception) -> TransportError:
        """Explain why the port could not be opened."""
        code = getattr(e, "errno", None)
        device = self.target.device
        if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
            return TransportError(
                "not_found",
                f"no serial device {device}: is the {self.role} or its USB-serial adapter plugged "
                "in? "
                f"({e})",
            )
        if code in (errno.EACCES, errno.EPERM):
            return TransportError(
                "permission",
                f"no permission to open {device}: add the storelink user to the dialout group "
                f"(usermod -aG dialout storelink) and restart the service ({e})",
            )
        if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY):
            return TransportError(
                "busy", f"{device} is locked by another program (a second storelink, ModemManager "
                f"or a terminal): {e}",
            )
        return TransportError("unreachable", f"cannot open {device}: {e}")

    def write(self, data: bytes) -> None:
        """Send all of `data` within write_timeout (flow control may hold it back)."""
        port = self._require()
        # Not port.write(): after writing everything it still waits for the line to be
        # writable and reports a timeout for data that went out. No flush() either: tcdrain()
        # has no timeout and hangs while flow control holds the line.
        try:
            sent = write_fd(port.fileno(), data, self.target.write_timeout)
        except (OSError, ValueError) as e:  # SerialException is an OSError
            self.close()
            raise TransportError("disconnected", f"{self.description}: {e}") from e
        if sent < len(data):
            raise TransportError(
                "timeout",
                f"{self.description} took no more data for {self.target.write_timeout:g} s "
                f"({sent} of {len(data)} bytes sent): flow control held"
                + (", paper out or a stalled printer" if self.role == "printer" else
                   f" or a stalled {self.role}"),
            )

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return what arrives within `timeout` (up to max_bytes), without waiting to fill it."""
        port = self._require()
        try:
            ready, _, _ = select.select([port.fileno()], [], [], max(timeout, 0.0))
            # The port's own timeout is 0: read() takes what is there and never waits.
            data = bytes(port.read(max_bytes)) if ready else b""
        except (OSError, ValueError) as e:  # SerialException is an OSError
            self.close()
            raise TransportError("disconnected", f"{self.description}: {e}") from e
        return data

    def close(self) -> None:
        """Close the port; idempotent."""
        port, self._port = self._port, None
        if port is not None:
            # A vanished device still releases the descriptor.
            with contextlib.suppress(OSError):  # SerialException is an OSError
                port.close()

    def _require(self) -> serial.Serial:
        if self._port is None:
            raise not_open(self.description)
        return self._port
