"""A simulated serial scale on a pty for each built-in protocol, with settable weight and status."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import tty
from typing import TextIO

from drivers import InvalidInput
from drivers.scale.frames import STATUSES, frame_for
from drivers.scale.protocol import builtin_protocols


class ScaleSim:
    """A scale on a pseudo-terminal: continuous protocols send every `interval_s`, polled ones
    answer their poll command; the zero and tare commands act on the simulated weight."""

    def __init__(self, protocol: str, grams: int = 0, status: str = "stable",
                 interval_s: float = 0.05) -> None:
        proto = builtin_protocols().get(protocol)
        if proto is None:
            raise InvalidInput("protocol", f"unknown protocol {protocol!r}")
        frame_for(protocol, grams, status)  # validates the values before a pty is made
        self.protocol = proto
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._grams, self._status, self._tare = grams, status, 0
        self.polls = 0
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.port = os.ttyname(self._slave)
        self._halt = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=f"scale-sim-{protocol}",
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> ScaleSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set(self, grams: int | None = None, status: str | None = None) -> None:
        """Put a weight (grams, gross) and/or a status (stable, motion, overload, under_zero)."""
        with self._lock:
            g = self._grams if grams is None else grams
            s = self._status if status is None else status
            frame_for(self.protocol.name, g - self._tare, s)
            self._grams, self._status = g, s

    def frame(self) -> bytes:
        """The frame the scale sends now (net of the tare)."""
        with self._lock:
            return frame_for(self.protocol.name, self._grams - self._tare, self._status,
                             net=self._tare != 0)

    def write(self, data: bytes) -> None:
        """Send raw bytes (noise, half a frame); dropped when nobody reads and the pty is full."""
        with contextlib.suppress(BlockingIOError, OSError):
            view = memoryview(data)
            while view:
                view = view[os.write(self._master, view):]

    def close(self) -> None:
        """Unplug: stop sending and close the pty (a reader sees the port vanish)."""
        if self._closed:
            return
        self._closed = True
        self._halt.set()
        self._thread.join(timeout=2)
        os.close(self._master)
        os.close(self._slave)

    def _command(self, data: bytes) -> None:
        p = self.protocol
        for cmd in (p.poll, p.zero, p.tare):
            if not cmd:
                continue
            while cmd in data:
                data = data.replace(cmd, b"", 1)
                if cmd == p.poll and p.mode == "poll":
                    self.polls += 1
                    self.write(self.frame())
                elif cmd == p.zero:
                    with self._lock:
                        self._grams, self._tare = 0, 0
                elif cmd == p.tare:
                    with self._lock:
                        self._tare = self._grams

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], self.interval_s)
                if ready:
                    self._command(os.read(self._master, 256))
            except OSError:
                ready = []  # no reader on the other side yet
            if self.protocol.mode == "continuous" and not ready:
                self.write(self.frame())


def run_scale_sim(protocol: str, commands: TextIO, announce: TextIO, *, grams: int = 0,
                  status: str = "stable", interval_s: float = 0.1) -> int:
    """Serve a scale until `commands` ends; lines: `weight G`, `status S`, `garbage`, `unplug`."""
    with ScaleSim(protocol, grams, status, interval_s) as sim:
        announce.write(f"scale {protocol} on {sim.port}\n")
        announce.flush()
        for line in commands:
            words = line.split()
            try:
                if len(words) == 2 and words[0] == "weight":
                    sim.set(grams=int(words[1]))
                elif len(words) == 2 and words[0] == "status":
                    sim.set(status=words[1])
                elif words == ["garbage"]:
                    sim.write(b"\x00\xfe#noise\r\n")
                elif words == ["unplug"]:
                    break
                elif words:
                    raise InvalidInput("command", "weight GRAMS | status "
                                       f"{'|'.join(STATUSES)} | garbage | unplug")
            except (InvalidInput, ValueError) as e:
                announce.write(f"{e}\n")
                announce.flush()
    return 0
