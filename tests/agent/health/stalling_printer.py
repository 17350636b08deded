"""A TCP ESC/POS printer that answers status queries like a healthy one until print data
arrives, then stops reading (its socket buffers fill and the box's write blocks) until
`release()` — a printer worker stuck in I/O, for real."""

from __future__ import annotations

import contextlib
import socket
import threading

QUERY = b"\x10\x04"
OK_REPLY = b"\x12"  # a valid all-clear reply to each of DLE EOT 1..4


class StallingPrinter:
    """Listens on 127.0.0.1:`port`; `stalled` is set once it stops reading."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        # A small receive window, so a few MiB of print data fill every buffer on the way.
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self.port = int(self._listener.getsockname()[1])
        self.stalled = threading.Event()
        self._release = threading.Event()
        self._closed = False
        self.received = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        """Read again (the blocked write completes)."""
        self._release.set()

    def close(self) -> None:
        """Stop listening and let the connection go."""
        self._closed = True
        self._release.set()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        tail = b""
        with conn:
            while not self._closed:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                self.received += len(data)
                seen = tail + data
                if not self._release.is_set() and any(b not in (0x10, 1, 2, 3, 4) for b in data):
                    self.stalled.set()
                    self._release.wait()
                replies = seen.count(QUERY)
                tail = seen[-1:] if seen.endswith(QUERY[:1]) else b""
                if replies:
                    with contextlib.suppress(OSError):
                        conn.sendall(OK_REPLY * replies)
