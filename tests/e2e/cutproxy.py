"""A TCP proxy on 127.0.0.1 that can cut, black-hole and restore the link (threads, no asyncio).

`cut()` resets every connection and refuses new ones; `blackhole()` keeps connections open but
forwards nothing (a link that died silently, only keep-alive notices); `restore()` forwards again.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading


class CutProxy:
    """Listens on `port` and forwards to 127.0.0.1:`upstream`."""

    def __init__(self, upstream: int, port: int = 0) -> None:
        self.upstream = upstream
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", port))
        self._srv.listen(64)
        self.port: int = self._srv.getsockname()[1]
        self.mode = "up"
        self.accepted = 0
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._closed = False
        threading.Thread(target=self._accept, name="cutproxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            if self.mode != "up":
                _reset(client)
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream), timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._pairs.append((client, up))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, up), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        socks = [a, b]
        try:
            while not self._closed:
                r, _, _ = select.select(socks, [], [], 0.1)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    if self.mode == "blackhole":
                        continue
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            _reset(a)
            _reset(b)
            with self._lock:
                if (a, b) in self._pairs:
                    self._pairs.remove((a, b))

    @property
    def connections(self) -> int:
        """Live forwarded connections."""
        with self._lock:
            return len(self._pairs)

    def cut(self) -> None:
        """Reset every connection and refuse new ones."""
        self.mode = "down"
        with self._lock:
            pairs = list(self._pairs)
        for a, b in pairs:
            _reset(a)
            _reset(b)

    def blackhole(self) -> None:
        """Keep connections open but forward nothing; refuse new ones."""
        self.mode = "blackhole"

    def restore(self) -> None:
        """Accept and forward again (black-holed connections stay dead: their bytes are lost)."""
        if self.mode == "blackhole":
            self.cut()
        self.mode = "up"

    def close(self) -> None:
        """Stop everything."""
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._srv.close()


def _reset(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        s.close()
