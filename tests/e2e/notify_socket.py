"""The service manager's end of systemd's notify protocol, for tests: a real datagram socket
whose path a child process gets as $NOTIFY_SOCKET."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import tempfile
import threading


class NotifySocket:
    """The service manager's end: a datagram socket collecting what the daemon sends."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sl-notify-")  # AF_UNIX paths are short
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            self.messages.put(data.decode("utf-8"))

    def next(self, wait_s: float = 30.0) -> str:
        return self.messages.get(timeout=wait_s)

    def drain(self) -> list[str]:
        out = []
        with contextlib.suppress(queue.Empty):
            while True:
                out.append(self.messages.get_nowait())
        return out

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
