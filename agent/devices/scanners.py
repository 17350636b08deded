"""One supervised reader per configured scanner: bytes → framed scans → "scan" events on the bus.

Serial scanners are read with pyserial, HID scanners from /dev/hidraw* (or a FIFO the simulator
writes), each in its own thread. A scan that is a configured credential (a supervisor's badge or
PIN, a worker's badge) is published as a "badge" event without its code, and a supervisor's is
held privately for the approval that names the scanner (`agent.sales.scanned`). A scanner
that cannot be opened or goes away is retried with jittered backoff; going down and coming back
are logged once each and published as "scanner" events.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import random
import select
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from agent import AgentError
from agent.devices.config import ScannerConfig
from agent.devices.discovery import DeviceEnv, find_hidraw, list_hidraw
from agent.events import EventBus
from agent.printing.queue.device import DeviceThread
from agent.printing.queue.service import wall_ms
from drivers import InvalidInput
from drivers.scanner import HidKeyboardDecoder, HidPosAssembler, RawScan, ScanFramer, make_scan
from drivers.scanner.framing import terminator_bytes
from drivers.scanner.hid import HONEYWELL_LAYOUT, NEWLAND_LAYOUT
from drivers.scanner.variable_measure import VariableMeasureFormat
from drivers.transports.base import TransportError
from drivers.transports.serial_port import SerialTarget, SerialTransport
from sync.backoff import backoff_delay

if TYPE_CHECKING:
    from agent.sales.scanned import CredentialScans

log = logging.getLogger(__name__)

POLL_S = 0.02
"""How often a reader thread looks for its stop flag and lets idle timeouts end a scan."""
BACKOFF_BASE_S = 0.5
STOP_TIMEOUT_S = 2.0


class ScanSource(Protocol):
    """A byte source a reader thread polls."""

    description: str
    per_read_reports: bool

    def open(self) -> None:
        """Open the device; TransportError when it cannot be."""

    def read(self, timeout: float) -> bytes:
        """Bytes that arrived within `timeout` (b"" for none); TransportError when it is gone."""
        ...

    def close(self) -> None:
        """Release the device; idempotent."""


class SerialSource:
    """A serial / USB-CDC scanner through pyserial (opened exclusively)."""

    per_read_reports = False

    def __init__(self, device: str, baudrate: int) -> None:
        self._t = SerialTransport(SerialTarget(device, baudrate=baudrate), role="scanner")
        self.description = self._t.description

    def open(self) -> None:
        """Open the port."""
        self._t.open()

    def read(self, timeout: float) -> bytes:
        """What arrived within `timeout`."""
        return self._t.read(4096, timeout)

    def close(self) -> None:
        """Close the port."""
        self._t.close()


class FileSource:
    """A HID scanner's reports: /dev/hidraw* (one report per read) or a FIFO / capture file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.description = f"file://{path}"
        self.per_read_reports = False
        self._fd: int | None = None
        self._regular = False

    def open(self) -> None:
        """Open without blocking; a FIFO read-write, so a writer closing is not an end."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            mode = os.fstat(fd).st_mode
            if stat.S_ISFIFO(mode):
                os.close(fd)
                fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError as e:
            raise TransportError("not_found", f"no device {self.path}: is the scanner plugged "
                                 f"in? ({e.strerror})") from e
        except PermissionError as e:
            raise TransportError("permission", f"no permission to read {self.path}: install "
                                 "systemd/99-storelink-printers.rules for hidraw scanners and "
                                 f"replug ({e.strerror})") from e
        except OSError as e:
            raise TransportError("unreachable", f"cannot open {self.path}: {e}") from e
        self._fd = fd
        self.per_read_reports = stat.S_ISCHR(mode)
        self._regular = stat.S_ISREG(mode)

    def read(self, timeout: float) -> bytes:
        """One read of what is waiting (a whole report on hidraw)."""
        fd = self._fd
        if fd is None:
            raise TransportError("disconnected", f"{self.description} is not open")
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            data = os.read(fd, 4096) if ready else b""
        except BlockingIOError:
            return b""
        except OSError as e:
            raise TransportError("disconnected", f"{self.path}: {e.strerror}: the scanner was "
                                 "unplugged") from e
        if ready and not data:
            if not self._regular:
                raise TransportError("disconnected", f"{self.path} ended: the scanner was "
                                     "unplugged")
            time.sleep(timeout)  # the end of a capture file: nothing new yet
        return data

    def close(self) -> None:
        """Close the descriptor."""
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class Decoder(Protocol):
    """Turns timed bytes into framed scans (drivers.scanner)."""

    def feed(self, data: bytes, now_ms: int) -> list[RawScan]:
        """Consume bytes."""
        ...

    def tick(self, now_ms: int) -> list[RawScan]:
        """Let time pass."""
        ...


class _HidStream:
    def __init__(self, decoder: HidKeyboardDecoder) -> None:
        self.decoder = decoder

    def feed(self, data: bytes, now_ms: int) -> list[RawScan]:
        return self.decoder.feed_stream(data, now_ms)

    def tick(self, now_ms: int) -> list[RawScan]:
        return self.decoder.tick(now_ms)


class _PosStream:
    def __init__(self, assembler: HidPosAssembler, report_size: int, per_read: bool) -> None:
        self.assembler = assembler
        self.report_size = report_size
        self.per_read = per_read
        self._buf = bytearray()

    def feed(self, data: bytes, now_ms: int) -> list[RawScan]:
        if self.per_read:
            return self.assembler.feed(data, now_ms)
        self._buf += data
        out: list[RawScan] = []
        while len(self._buf) >= self.report_size:
            report = bytes(self._buf[: self.report_size])
            del self._buf[: self.report_size]
            out += self.assembler.feed(report, now_ms)
        return out

    def tick(self, now_ms: int) -> list[RawScan]:
        return []


def make_decoder(cfg: ScannerConfig, per_read_reports: bool) -> Decoder:
    """A fresh decoder for one connection of `cfg` (a partial scan never spans a reconnect)."""
    if cfg.kind == "serial":
        return ScanFramer(terminator_bytes(cfg.terminator), cfg.max_len, cfg.idle_timeout_ms,
                          cfg.min_len)
    if cfg.kind == "hid":
        return _HidStream(HidKeyboardDecoder(cfg.terminator, cfg.idle_timeout_ms, cfg.max_len,
                                             cfg.report_id, cfg.min_len))
    layout = NEWLAND_LAYOUT if cfg.layout == "newland" else HONEYWELL_LAYOUT
    return _PosStream(HidPosAssembler(layout, cfg.max_len), cfg.report_size, per_read_reports)


@dataclass(frozen=True)
class ScannerSnapshot:
    """What GET /v1/scanners shows of one scanner."""

    id: str
    name: str
    kind: str
    source: str
    connected: bool
    last_error: str | None
    since_ms: int
    scans: int = 0
    rejected: int = 0
    failures: int = 0
    last_scan: dict[str, object] | None = None

    def as_json(self) -> dict[str, object]:
        """The JSON shape."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "source": self.source,
                "connected": self.connected, "last_error": self.last_error,
                "since_ms": self.since_ms, "scans": self.scans, "rejected": self.rejected,
                "failures": self.failures, "last_scan": self.last_scan}


def _where(cfg: ScannerConfig) -> str:
    if cfg.device is not None:
        return cfg.device
    ids = f"usb {cfg.vendor_id or 0:04x}:{cfg.product_id or 0:04x}"
    return ids + (f" serial {cfg.serial}" if cfg.serial else "") + (
        f" port {cfg.port_path}" if cfg.port_path else "")


class ScannerSupervisor:
    """Keeps one scanner open and publishes each scan as {"type": "scan", …} on the bus."""

    def __init__(self, cfg: ScannerConfig, bus: EventBus, *, env: DeviceEnv | None = None,
                 on_scan: Callable[[dict[str, object]], None] | None = None,
                 backoff_max_s: float = 30.0, rng: random.Random | None = None,
                 credentials: CredentialScans | None = None,
                 formats: tuple[VariableMeasureFormat, ...] = ()) -> None:
        self.cfg = cfg
        self.credentials = credentials
        self.formats = formats
        self.id = cfg.id
        self.bus = bus
        self.env = env or DeviceEnv()
        self.on_scan = on_scan
        self.backoff_max_s = backoff_max_s
        self._rng = rng or random.Random()
        self._dev = DeviceThread(f"scanner-{cfg.id}")
        self._halt = threading.Event()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._got_data = False
        self._up: bool | None = None
        self._snap = ScannerSnapshot(cfg.id, cfg.name, cfg.kind, _where(cfg), False,
                                     None, wall_ms())

    def snapshot(self) -> ScannerSnapshot:
        """The scanner's current state and counters."""
        return self._snap

    def _open(self) -> ScanSource:
        cfg = self.cfg
        source: ScanSource
        if cfg.kind == "serial":
            source = SerialSource(cfg.device or "", cfg.baudrate)
        else:
            path = cfg.device or str(find_hidraw(cfg, list_hidraw(self.env.sysfs),
                                                 self.env.dev_dir))
            source = FileSource(path)
        source.open()
        return source

    async def run(self) -> None:
        """Open, read and reconnect until stop()."""
        self._loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while not self._halt.is_set():
                try:
                    source = await self._dev.run(self._open)
                except (TransportError, AgentError, InvalidInput, OSError) as e:
                    self._set(False, str(e))
                    self._snap = replace(self._snap, failures=self._snap.failures + 1)
                else:
                    self._got_data = False
                    self._snap = replace(self._snap, failures=0)
                    self._set(True, None, source.description)
                    try:
                        await self._dev.run(functools.partial(self._pump, source))
                    except (TransportError, OSError) as e:
                        self._set(False, str(e))
                    except Exception as e:
                        log.exception("scanner %s: unexpected failure; reopening", self.id)
                        self._set(False, f"internal error: {e}")
                    finally:
                        await self._dev.run(source.close)
                    if self._got_data:
                        attempt = 0
                if self._halt.is_set():
                    break
                delay = backoff_delay(attempt, BACKOFF_BASE_S, self.backoff_max_s,
                                      self._rng.random())
                attempt += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            if self._snap.connected:
                self._set(False, "stopped", stopping=True)
            self._dev.stop()

    async def stop(self) -> None:
        """Ask the reader to finish; it lets go of the device within a poll interval."""
        self._halt.set()
        self._stop.set()

    def _pump(self, source: ScanSource) -> None:
        """The reader thread's loop: feed the decoder until stop or until the device is gone."""
        decoder = make_decoder(self.cfg, source.per_read_reports)
        while not self._halt.is_set():
            data = source.read(POLL_S)
            now = wall_ms()
            if data:
                self._got_data = True
            for raw in decoder.feed(data, now) if data else decoder.tick(now):
                self._emit(raw)

    def _emit(self, raw: RawScan) -> None:
        try:
            scan = make_scan(self.cfg.id, raw.data, raw.at_ms, encoding=self.cfg.encoding,
                             formats=self.formats)
        except InvalidInput as e:
            event: dict[str, object] | None = None
            reason = str(e)
        else:
            event = {"type": "scan", **scan.as_event()}
            reason = ""
            creds = self.credentials
            # Checked here, in the reader thread: recognising a code may take scrypt rounds.
            who = creds.recognise(scan.code) if creds is not None and creds.active else None
            if creds is not None and who is not None:
                creds.hold(self.cfg.id, scan.code, who, scan.at_ms)
                event = {"type": "badge", "device": self.cfg.id, "role": who.role,
                         "id": who.who, "at_ms": scan.at_ms}
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                loop.call_soon_threadsafe(self._deliver, event, reason)

    def _deliver(self, event: dict[str, object] | None, reason: str) -> None:
        if event is None:
            log.info("scanner %s: dropped a scan: %s", self.id, reason)
            self._snap = replace(self._snap, rejected=self._snap.rejected + 1)
            return
        if event["type"] != "scan":  # a credential: counted, published without its code
            self._snap = replace(self._snap, scans=self._snap.scans + 1)
            self.bus.publish(event)
            return
        self._snap = replace(self._snap, scans=self._snap.scans + 1, last_scan=event)
        self.bus.publish(event)
        if self.on_scan is not None:
            self.on_scan(event)

    def _set(self, connected: bool, error: str | None, source: str | None = None, *,
             stopping: bool = False) -> None:
        """Record the state; a change (not a repeat) is logged once and published."""
        old = self._snap
        now = wall_ms()
        self._snap = replace(old, connected=connected, source=source or old.source,
                             last_error=error if error is not None else old.last_error,
                             since_ms=now if connected != old.connected else old.since_ms)
        if connected == self._up:
            return
        self._up = connected
        if connected:
            log.info("scanner %s connected: %s", self.id, self._snap.source)
        elif stopping:
            log.info("scanner %s closed", self.id)
        else:
            log.warning("scanner %s down: %s", self.id, error)
        self.bus.publish({"type": "scanner", "id": self.id, "connected": connected,
                          "source": self._snap.source, "last_error": self._snap.last_error,
                          "at_ms": now})
