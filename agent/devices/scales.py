"""One supervised worker per configured scale: its port read in a thread, readings in grams.

The worker opens only the port the configuration names, polls when the protocol is polled,
feeds the sans-I/O parser, keeps the latest reading, publishes "weight" events when the weight
or status changes and "scale" events when the scale goes online or offline (no valid frame
for `offline_after_ms`, or the port is gone; it is reopened with jittered backoff).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, replace
from typing import Literal

from agent.devices.scale_config import ScaleConfig
from agent.events import EventBus
from agent.printing.queue.device import DeviceThread
from agent.printing.queue.service import wall_ms
from drivers import InvalidInput
from drivers.scale import Reading, ScaleParser
from drivers.transports.base import TransportError
from drivers.transports.serial_port import SerialTarget, SerialTransport
from sync.backoff import backoff_delay

log = logging.getLogger(__name__)

READ_S = 0.02
BACKOFF_BASE_S = 0.5
STATUS_TEXT = {"stable": "稳定", "motion": "在晃动", "overload": "超载", "under_zero": "负数",
               "offline": "秤无响应"}
Command = Literal["tare", "zero"]


@dataclass(frozen=True)
class ScaleSnapshot:
    """What GET /v1/scales shows of one scale."""

    id: str
    name: str
    protocol: str
    source: str
    online: bool
    last_error: str | None
    since_ms: int
    reading: Reading | None = None
    reading_ms: int | None = None
    readings: int = 0
    skipped: int = 0

    def as_json(self) -> dict[str, object]:
        """The JSON shape."""
        return {"id": self.id, "name": self.name, "protocol": self.protocol,
                "source": self.source, "state": "online" if self.online else "offline",
                "last_error": self.last_error, "since_ms": self.since_ms,
                "reading": self.reading.as_json() if self.reading else None,
                "reading_ms": self.reading_ms, "readings": self.readings,
                "skipped": self.skipped}


@dataclass(frozen=True)
class WeightAnswer:
    """The answer to a weight request: HTTP status and body."""

    http: int
    body: dict[str, object]


class ScaleUnsupportedError(Exception):
    """The scale's protocol has no such command."""


class ScaleSupervisor:
    """Keeps one scale open and answers weight requests from its latest readings."""

    def __init__(self, cfg: ScaleConfig, bus: EventBus, *, backoff_max_s: float = 30.0,
                 rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.bus = bus
        self.backoff_max_s = backoff_max_s
        self._rng = rng or random.Random()
        self._dev = DeviceThread(f"scale-{cfg.id}")
        self._halt = threading.Event()
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self._commands: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_event: tuple[str, int | None] | None = None
        p = cfg.protocol
        self._snap = ScaleSnapshot(cfg.id, cfg.name, p.name, cfg.device, False,
                                   "not opened yet", wall_ms())

    def snapshot(self) -> ScaleSnapshot:
        """The scale's current state and latest reading."""
        return self._snap

    async def run(self) -> None:
        """Open, read and reopen until stop()."""
        self._loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while not self._halt.is_set():
                t = self._transport()
                try:
                    await self._dev.run(t.open)
                except (TransportError, OSError) as e:
                    self._set(False, str(e))
                else:
                    if not self._snap.online:
                        self._snap = replace(self._snap, last_error="port open; waiting for "
                                             "the first valid frame")
                    try:
                        got = await self._dev.run(functools.partial(self._pump, t))
                    except (TransportError, OSError) as e:
                        got = False
                        self._set(False, str(e))
                    except Exception as e:
                        got = False
                        log.exception("scale %s: unexpected failure; reopening", self.id)
                        self._set(False, f"internal error: {e}")
                    finally:
                        await self._dev.run(t.close)
                    if got:
                        attempt = 0
                if self._halt.is_set():
                    break
                delay = backoff_delay(attempt, BACKOFF_BASE_S, self.backoff_max_s,
                                      self._rng.random())
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            self._set(False, "stopped", stopping=True)
            self._dev.stop()

    async def stop(self) -> None:
        """Ask the worker to let go of the port within a read interval."""
        self._halt.set()
        self._stop.set()

    def command(self, which: Command) -> None:
        """Queue the protocol's tare or zero command; ScaleUnsupportedError if it has none."""
        data = self.cfg.protocol.tare if which == "tare" else self.cfg.protocol.zero
        if not data:
            raise ScaleUnsupportedError(f"protocol {self.cfg.protocol.name} has no {which} "
                                        "command")
        if not self._snap.online:
            raise TransportError("disconnected", f"scale {self.id} is offline")
        self._commands.put(data)

    async def weight(self, stable: bool, timeout_ms: int) -> WeightAnswer:
        """Wait up to `timeout_ms` for a fresh reading (a stable one when `stable`).

        200 with grams when one comes; 409 with the status when the scale answers but is in
        motion, overloaded or under zero; 504 when it gives no fresh reading at all.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            changed = self._changed
            fresh = self._fresh()
            if fresh is not None and fresh.grams is not None and fresh.grams >= 0 and (
                    fresh.status == "stable" or (not stable and fresh.status == "motion")):
                return WeightAnswer(200, {"scale": self.id, "grams": fresh.grams,
                                          "stable": fresh.status == "stable", "net": fresh.net,
                                          "at_ms": self._snap.reading_ms})
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(remaining, 0.25))
        fresh = self._fresh()
        if fresh is None:
            reason = self._snap.last_error or "no reading"
            return WeightAnswer(504, {"error": {
                "field": "scale", "reason": f"{STATUS_TEXT['offline']}: {reason}",
                "status": "offline", "scale": self.id}})
        return WeightAnswer(409, {"error": {
            "field": "scale", "reason": STATUS_TEXT[fresh.status], "status": fresh.status,
            "grams": fresh.grams, "scale": self.id}})

    def _fresh(self) -> Reading | None:
        s = self._snap
        if not s.online or s.reading is None or s.reading_ms is None:
            return None
        return s.reading if wall_ms() - s.reading_ms <= self.cfg.fresh_ms else None

    def _transport(self) -> SerialTransport:
        p = self.cfg.protocol
        return SerialTransport(SerialTarget(self.cfg.device, baudrate=self.cfg.baudrate,
                                            bytesize=p.bytesize, parity=p.parity,
                                            stopbits=p.stopbits, write_timeout=2.0))

    def _pump(self, t: SerialTransport) -> bool:
        """The worker thread's loop; True if any valid frame came."""
        p = self.cfg.protocol
        parser = ScaleParser(p)
        got = False
        opened = last_valid = time.monotonic()
        next_poll = opened
        offline_s = self.cfg.offline_after_ms / 1000
        while not self._halt.is_set():
            now = time.monotonic()
            while not self._commands.empty():
                t.write(self._commands.get_nowait())
            if p.mode == "poll" and now >= next_poll:
                t.write(p.poll)
                next_poll = now + self.cfg.poll_interval_ms / 1000
            data = t.read(256, READ_S)
            readings = parser.feed(data) if data else []
            if readings:
                got = True
                last_valid = time.monotonic()
                self._post(self._deliver, readings, wall_ms(), parser.skipped)
            elif time.monotonic() - last_valid > offline_s:
                self._post(self._set, False, f"no valid frame for {self.cfg.offline_after_ms} ms")
                last_valid = time.monotonic()  # report again only after another silent period
        return got

    def _post(self, fn: object, *args: object) -> None:
        loop = self._loop
        if loop is not None and callable(fn):
            with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                loop.call_soon_threadsafe(fn, *args)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _deliver(self, readings: list[Reading], at_ms: int, skipped: int) -> None:
        self._set(True, None)
        last = readings[-1]
        self._snap = replace(self._snap, reading=last, reading_ms=at_ms,
                             readings=self._snap.readings + len(readings), skipped=skipped)
        key = (last.status, last.grams)
        if key != self._last_event:
            self._last_event = key
            self.bus.publish({"type": "weight", "scale": self.id, **last.as_json(),
                              "status_text": STATUS_TEXT[last.status], "at_ms": at_ms})
        self._wake()

    def _set(self, online: bool, error: str | None, *, stopping: bool = False) -> None:
        """Record online/offline; a change (not a repeat) is logged once and published."""
        old = self._snap
        now = wall_ms()
        self._snap = replace(old, online=online, last_error=error,
                             since_ms=now if online != old.online else old.since_ms)
        if online == old.online:
            return
        self._last_event = None
        if online:
            log.info("scale %s online: %s", self.id, self.cfg.device)
        elif stopping:
            log.info("scale %s closed", self.id)
        else:
            log.warning("scale %s offline: %s", self.id, error)
        self.bus.publish({"type": "scale", "id": self.id, "online": online,
                          "state": "online" if online else "offline", "last_error": error,
                          "at_ms": now})
        self._wake()


def check_timeout_ms(raw: str | None, default: int = 3000) -> int:
    """The `timeout_ms` query parameter: 0-30000; InvalidInput names it."""
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 30_000:
        raise InvalidInput("timeout_ms", "must be an integer 0-30000")
    return int(raw)
