"""Raw TCP printing (port 9100), with keepalive so a dead printer is noticed in seconds."""

from __future__ import annotations

import fcntl
import select
import socket
import struct
import termios
from dataclasses import dataclass

from drivers import InvalidInput
from drivers.transports.base import TransportError, not_open

# An idle connection to a printer that lost power is declared dead after
# KEEPALIVE_IDLE_S + KEEPALIVE_INTERVAL_S * KEEPALIVE_COUNT seconds (11 s), not the kernel's
# default two hours; the queue then marks it offline instead of writing into a black hole.
KEEPALIVE_IDLE_S = 5
KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3

@dataclass(frozen=True)
class TcpTarget:
    """A network printer's address and the time limits for connecting and for each write."""

    host: str
    port: int = 9100
    connect_timeout: float = 3.0
    write_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host:
            raise InvalidInput("host", "must not be empty")
        if not 1 <= self.port <= 65535:
            raise InvalidInput("port", f"{self.port} is not a TCP port (1-65535)")
        if self.connect_timeout <= 0:
            raise InvalidInput("connect_timeout", "must be positive")
        if self.write_timeout <= 0:
            raise InvalidInput("write_timeout", "must be positive")


class TcpTransport:
    """A blocking TCP connection to one printer."""

    def __init__(self, target: TcpTarget) -> None:
        self.target = target
        host = f"[{target.host}]" if ":" in target.host else target.host
        self.description = f"tcp://{host}:{target.port}"
        self._sock: socket.socket | None = None

    @property
    def socket(self) -> socket.socket | None:
        """The connected socket (None when closed), for diagnostics."""
        return self._sock

    def open(self) -> None:
        """Connect with the connect timeout and set keepalive, TCP_NODELAY and the user timeout."""
        if self._sock is not None:
            return
        t = self.target
        try:
            sock = socket.create_connection((t.host, t.port), timeout=t.connect_timeout)
        except ConnectionRefusedError as e:
            raise TransportError(
                "unreachable",
                f"{self.description} refused the connection: is the printer on and is port "
                f"{t.port} its raw printing port? ({e})",
            ) from e
        except socket.gaierror as e:
            raise TransportError("unreachable", f"cannot resolve {t.host!r}: {e}") from e
        except TimeoutError as e:
            if e.errno is None:
                raise TransportError(
                    "timeout",
                    f"{self.description} did not answer within {t.connect_timeout:g} s",
                ) from e
            raise TransportError("unreachable", f"{self.description}: {e}") from e
        except OSError as e:
            raise TransportError("unreachable", f"{self.description}: {e}") from e
        try:
            _tune(sock, t.write_timeout)
        except OSError as e:
            sock.close()
            raise TransportError("disconnected", f"{self.description}: {e}") from e
        sock.settimeout(t.write_timeout)
        self._sock = sock

    def write(self, data: bytes) -> None:
        """Send all of `data` within write_timeout; on failure the connection is closed."""
        sock = self._sock
        if sock is None:
            raise not_open(self.description)
        try:
            sock.sendall(data)
        except TimeoutError as e:
            self.close()
            if e.errno is None:
                raise TransportError(
                    "timeout",
                    f"{self.description} took no more data for {self.target.write_timeout:g} s "
                    "(paper out, cover open or a stalled printer)",
                ) from e
            raise TransportError("disconnected", f"{self.description}: {e}") from e
        except OSError as e:
            self.close()
            raise _lost(self.description, e) from e

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return what arrives within `timeout` (up to max_bytes); EOF raises "disconnected"."""
        sock = self._sock
        if sock is None:
            raise not_open(self.description)
        try:
            ready, _, _ = select.select([sock], [], [], max(timeout, 0.0))
            if not ready:
                return b""
            data = sock.recv(max_bytes)
        except OSError as e:
            self.close()
            raise _lost(self.description, e) from e
        if not data:
            self.close()
            raise TransportError("disconnected", f"{self.description} closed the connection")
        return data

    def unsent(self) -> int | None:
        """Bytes written that the printer has not acknowledged yet (Linux SIOCOUTQ; None
        elsewhere or when closed): a printer whose input buffer is full takes them slowly."""
        sock = self._sock
        if sock is None or not hasattr(termios, "TIOCOUTQ"):
            return None
        try:
            out = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, struct.pack("i", 0))
        except OSError:
            return None
        return int(struct.unpack("i", out)[0])

    def close(self) -> None:
        """Close the socket (the kernel still delivers what was written); idempotent."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


def _tune(sock: socket.socket, write_timeout: float) -> None:
    """Set the options that make a dead peer visible and small status queries go out at once."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        # Data unacknowledged for longer than a write may take means the peer is gone.
        ("TCP_USER_TIMEOUT", int(write_timeout * 1000)),
    ):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


def _lost(description: str, e: OSError) -> TransportError:
    """Map a socket error during a transfer (reset, broken pipe, keepalive expiry) to an error."""
    return TransportError("disconnected", f"{description} dropped the connection: {e}")
