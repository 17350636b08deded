"""Host any DeviceModel on a real TCP port or a real pseudo-terminal, in a background thread.

TcpShell serves one client at a time like a receipt printer's port 9100: a second connection
completes its handshake but waits in the listen backlog until the first one closes. While the
model is not `connected` the listening socket is closed (new connections are refused) and a
connected client is dropped; when it comes back the shell listens on the same port again.
PtyShell serves the master side of a pty; `device_path` is the serial side to open. A
disconnected model there swallows the bytes without answering (a serial line has no refusal).
Both honour `reply_delay` before each reply and, if the model has one, `read_pause` between
reads (a slow printer that accepts data slowly).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import tty
from types import TracebackType

from drivers import DriverError
from drivers.sim.model import DeviceModel

__all__ = ["PtyShell", "ShellError", "TcpShell"]

POLL = 0.05  # seconds between checks of stop requests and of model.connected
CHUNK = 4096
SEND_TIMEOUT = 5.0


class ShellError(DriverError):
    """A shell could not be started (port in use, no pty available)."""


class _Shell:
    """Start/stop plumbing shared by the shells."""

    name = "shell"

    def __init__(self, model: DeviceModel) -> None:
        self.model = model
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> None:
        raise NotImplementedError

    def _serve(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Open the endpoint and start serving in a background thread."""
        if self._thread is not None:
            raise ShellError(f"{self.name} already started")
        self._open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving, close every socket / fd, and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self._close()

    @property
    def running(self) -> bool:
        """True while the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def _pause(self) -> bool:
        """Wait the model's read_pause; True when a stop was requested meanwhile."""
        pause = float(getattr(self.model, "read_pause", 0.0))
        return pause > 0 and self._stop.wait(pause)

    def _answer(self, data: bytes) -> bytes | None:
        """Feed data to the model; its reply after reply_delay (None: stop requested)."""
        reply = self.model.receive(data)
        if reply and self.model.reply_delay > 0 and self._stop.wait(self.model.reply_delay):
            return None
        return reply

    def __enter__(self) -> _Shell:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class TcpShell(_Shell):
    """Serve `model` on host:port (port 0 picks a free one; read it from `.port` after start).

    `rcvbuf` (bytes) shrinks the socket's receive buffer the way a real printer's input buffer
    is small: with a slow `read_pause`, the host's written bytes then wait on the host's side.
    """

    name = "tcp-shell"

    def __init__(self, model: DeviceModel, host: str = "127.0.0.1", port: int = 0, *,
                 rcvbuf: int | None = None) -> None:
        super().__init__(model)
        self.host = host
        self._port = port
        self._rcvbuf = rcvbuf
        self._listener: socket.socket | None = None
        self._client: socket.socket | None = None
        self.connections = 0  # clients served so far

    @property
    def port(self) -> int:
        """The bound port."""
        return self._port

    def __enter__(self) -> TcpShell:
        self.start()
        return self

    def _open(self) -> None:
        try:
            self._listen()
        except OSError as e:
            raise ShellError(f"cannot listen on {self.host}:{self._port}: {e}") from None

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self._rcvbuf is not None:  # set before listen: accepted sockets inherit it
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._rcvbuf)
            sock.bind((self.host, self._port))
            sock.listen(4)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        self._listener = sock

    def _unlisten(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _close(self) -> None:
        self._unlisten()
        if self._client is not None:
            self._client.close()
            self._client = None

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self.model.connected:
                self._unlisten()
                self._stop.wait(POLL)
                continue
            if self._listener is None:
                try:
                    self._listen()
                except OSError:
                    self._stop.wait(POLL)
                    continue
            assert self._listener is not None
            ready, _, _ = select.select([self._listener], [], [], POLL)
            if not ready:
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            self._client = conn
            self.connections += 1
            try:
                self._serve_client(conn)
            finally:
                conn.close()
                self._client = None

    def _serve_client(self, conn: socket.socket) -> None:
        conn.settimeout(SEND_TIMEOUT)
        try:
            while not self._stop.is_set() and self.model.connected:
                ready, _, _ = select.select([conn], [], [], POLL)
                if not ready:
                    continue
                try:
                    data = conn.recv(CHUNK)
                except OSError:
                    break
                if not data:
                    break
                reply = self._answer(data)
                if reply is None:
                    break
                if reply:
                    try:
                        conn.sendall(reply)
                    except OSError:
                        break
                if self._pause():
                    break
        finally:
            self.model.end_of_stream()


class PtyShell(_Shell):
    """Serve `model` on a pseudo-terminal in raw mode; open `device_path` like a serial port."""

    name = "pty-shell"

    def __init__(self, model: DeviceModel) -> None:
        super().__init__(model)
        self._master = -1
        self._slave = -1
        self.device_path = ""

    def __enter__(self) -> PtyShell:
        self.start()
        return self

    def _open(self) -> None:
        try:
            self._master, self._slave = os.openpty()
        except OSError as e:
            raise ShellError(f"cannot open a pty: {e}") from None
        # Raw: no echo, no line discipline, every byte passes as is. The shell keeps the serial
        # side open too, so the master never reads EIO between clients.
        tty.setraw(self._slave)
        self.device_path = os.ttyname(self._slave)

    def _close(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], POLL)
            if not ready:
                continue
            try:
                data = os.read(self._master, CHUNK)
            except OSError:
                self._stop.wait(POLL)
                continue
            if not data or not self.model.connected:
                continue
            reply = self._answer(data)
            if reply is None:
                break
            view = memoryview(reply)
            while view and not self._stop.is_set():
                try:
                    view = view[os.write(self._master, view):]
                except BlockingIOError:
                    self._stop.wait(POLL)
            if self._pause():
                break
