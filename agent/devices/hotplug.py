"""Hot-plug: periodic rescans (sooner on a kernel uevent) diffed into attach / detach events.

A configured printer that is attached while the daemon runs prints its self-test ticket (if
its config says so) once it is ready — once per attachment, however its readiness is learnt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field

from agent.config import Config
from agent.devices.discovery import DeviceEnv, scan_devices
from agent.devices.network import NetworkDiscovery
from agent.devices.report import DeviceReport, Found
from agent.events import EventBus
from agent.printing.queue.device import DeviceThread
from agent.printing.queue.service import wall_ms

log = logging.getLogger(__name__)

NETLINK_KOBJECT_UEVENT = 15
UEVENT_SUBSYSTEMS = frozenset({"usb", "tty", "hidraw"})
UEVENT_ACTIONS = frozenset({"add", "remove", "bind", "unbind"})
SETTLE_S = 0.3
"""After a uevent, udev still has to create the /dev/serial/by-id links: wait before scanning."""
READY_WAIT_S = 300.0


def parse_uevent(data: bytes) -> dict[str, str] | None:
    """A kernel uevent ("add@/devices/…\\0ACTION=add\\0SUBSYSTEM=usb\\0…") as a dict; None if
    it is not one (udev's own "libudev" messages included). Never raises."""
    parts = data.split(b"\0")
    header = parts[0]
    if b"@" not in header or header.startswith(b"libudev"):
        return None
    fields: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(b"=")
        if sep and key:
            fields[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    action, _, devpath = header.decode("utf-8", "replace").partition("@")
    fields.setdefault("ACTION", action)
    fields.setdefault("DEVPATH", devpath)
    return fields


def uevent_matters(fields: Mapping[str, str]) -> bool:
    """True for a device added or removed on a bus we watch."""
    return fields.get("SUBSYSTEM") in UEVENT_SUBSYSTEMS and fields.get("ACTION") in UEVENT_ACTIONS


class UeventListener:
    """Kernel uevents through a netlink socket, where the system allows it (Linux)."""

    def __init__(self, on_event: Callable[[], None]) -> None:
        self.on_event = on_event
        self.messages = 0
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port_id(self) -> int | None:
        """The socket's netlink port id (None when not listening)."""
        return int(self._sock.getsockname()[0]) if self._sock is not None else None

    def start(self) -> bool:
        """Listen; False when uevents are unavailable here (then rescans alone find changes)."""
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK,
                                 NETLINK_KOBJECT_UEVENT)
            sock.bind((0, 1))  # group 1: the kernel's own events
        except (OSError, AttributeError) as e:
            log.info("no kernel uevents here (%s); relying on periodic rescans", e)
            return False
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock.fileno(), self._readable)
        return True

    def _readable(self) -> None:
        sock = self._sock
        relevant = False
        while sock is not None:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # ENOBUFS after a burst: rescan anyway
                log.debug("uevent socket: %s", e)
                relevant = True
                break
            self.messages += 1
            fields = parse_uevent(data)
            relevant = relevant or (fields is not None and uevent_matters(fields))
        if relevant:
            self.on_event()

    def close(self) -> None:
        """Stop listening."""
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
            sock.close()


class SelfTestGate:
    """At most one self-test ticket per printer per attachment, from whichever path asks first."""

    def __init__(self, print_self_test: Callable[[str], Awaitable[object]]) -> None:
        self._print = print_self_test
        self._done: set[str] = set()

    async def ready(self, printer_id: str) -> None:
        """The printer is attached and ready: print its ticket unless this attachment had one."""
        if printer_id in self._done:
            return
        self._done.add(printer_id)
        await self._print(printer_id)

    def detached(self, printer_id: str) -> None:
        """The printer was unplugged: its next attachment prints a ticket again."""
        self._done.discard(printer_id)


def device_event(action: str, f: Found, at_ms: int) -> dict[str, object]:
    """{"type": "device", "action": "attach" | "detach", "key", "bus", "kind", …}."""
    return {"type": "device", "action": action, "key": f.key, "bus": f.bus, "kind": f.kind,
            "detail": f.detail, "title": f.title, "configured_as": list(f.configured_as),
            "at_ms": at_ms}


@dataclass(eq=False)
class DeviceWatcher:
    """Rescans every `interval_s` (or when woken) and publishes what came and went."""

    config: Config
    bus: EventBus
    env: DeviceEnv
    _: KW_ONLY
    network: NetworkDiscovery | None = None
    gate: SelfTestGate | None = None
    printer_ready: Callable[[str], bool] | None = None
    interval_s: float = field(init=False)
    report: DeviceReport | None = field(init=False, default=None)
    scans: int = field(init=False, default=0)
    _dev: DeviceThread = field(init=False, default_factory=lambda: DeviceThread("discovery"))
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)
    _wake: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _stopping: bool = field(init=False, default=False)
    _waiters: dict[str, asyncio.Task[None]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.interval_s = self.config.discovery.rescan_interval_s

    @property
    def pending_self_tests(self) -> list[str]:
        """Printers attached and waiting to become ready for their self-test."""
        return sorted(self._waiters)

    def wake(self) -> None:
        """Rescan soon (a uevent, a network change)."""
        self._wake.set()

    async def rescan(self) -> DeviceReport:
        """Scan now; publish attach / detach against the previous scan (none for the first)."""
        async with self._lock:
            services = self.network.services() if self.network is not None else []
            status = self.network.status if self.network is not None else "off"
            report = await self._dev.run(lambda: scan_devices(
                self.config, self.env, services, wall_ms(), status))
            previous, self.report = self.report, report
            self.scans += 1
            if previous is not None:
                self._diff(previous, report)
            return report

    def _diff(self, old: DeviceReport, new: DeviceReport) -> None:
        before = {f.key: f for f in old.found}
        after = {f.key: f for f in new.found}
        now = wall_ms()
        for key in sorted(before.keys() - after.keys()):
            f = before[key]
            log.info("detached: %s%s", f.title, _refs(f))
            self.bus.publish(device_event("detach", f, now))
            for pid in _printer_ids(f):
                if self.gate is not None:
                    self.gate.detached(pid)
                waiter = self._waiters.pop(pid, None)
                if waiter is not None:
                    waiter.cancel()
        for key in sorted(after.keys() - before.keys()):
            f = after[key]
            log.info("attached: %s%s", f.title, _refs(f))
            self.bus.publish(device_event("attach", f, now))
            for pid in _printer_ids(f):
                cfg = self.config.printer(pid)
                if cfg is not None and cfg.self_test_on_attach and pid not in self._waiters:
                    task = asyncio.create_task(self._self_test_when_ready(pid))
                    self._waiters[pid] = task

    async def _self_test_when_ready(self, printer_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + READY_WAIT_S
            while self.printer_ready is not None and not self.printer_ready(printer_id):
                if loop.time() > deadline:
                    log.warning("printer %s was attached but never became ready; no self-test",
                                printer_id)
                    return
                await asyncio.sleep(0.1)
            if self.gate is not None:
                await self.gate.ready(printer_id)
        except Exception:
            log.exception("self-test of printer %s after attach failed", printer_id)
        finally:
            self._waiters.pop(printer_id, None)

    async def run(self) -> None:
        """Scan at once, then every interval or when woken, until stop()."""
        while not self._stopping:
            try:
                await self.rescan()
            except Exception:
                log.exception("device scan failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            if self._wake.is_set() and not self._stopping:
                self._wake.clear()
                await asyncio.sleep(SETTLE_S)

    async def stop(self) -> None:
        """Stop scanning and drop pending self-test waits."""
        self._stopping = True
        self._wake.set()
        for task in list(self._waiters.values()):
            task.cancel()
        self._dev.stop()


def _printer_ids(f: Found) -> list[str]:
    return [r.split(".", 1)[1] for r in f.configured_as if r.startswith("printers.")]


def _refs(f: Found) -> str:
    return f" ({', '.join(f.configured_as)})" if f.configured_as else ""
