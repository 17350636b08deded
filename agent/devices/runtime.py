"""The daemon's device services: scanner readers, display writers, discovery, hot-plug, zeroconf."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable

from agent.config import Config
from agent.devices.discovery import DeviceEnv
from agent.devices.displays import DisplayWriter
from agent.devices.hotplug import DeviceWatcher, SelfTestGate, UeventListener
from agent.devices.network import NetworkDiscovery, box_service_info
from agent.devices.scales import ScaleSupervisor
from agent.devices.scanners import STOP_TIMEOUT_S, ScannerSupervisor
from agent.events import EventBus
from agent.sales.scanned import CredentialScans

log = logging.getLogger(__name__)

RECENT_SCANS = 50


class DeviceServices:
    """Owns every device task that is not a printer; start() once, stop() once."""

    def __init__(self, config: Config, bus: EventBus, *, env: DeviceEnv | None = None,
                 self_test: Callable[[str], Awaitable[object]],
                 printer_ready: Callable[[str], bool],
                 credentials: CredentialScans | None = None) -> None:
        self.config = config
        self.bus = bus
        self.env = env or DeviceEnv()
        self.recent_scans: collections.deque[dict[str, object]] = collections.deque(
            maxlen=RECENT_SCANS)
        self.gate = SelfTestGate(self_test)
        self.scanners = {s.id: ScannerSupervisor(s, bus, env=self.env,
                                                 on_scan=self.recent_scans.appendleft,
                                                 backoff_max_s=config.queue.backoff_max_s,
                                                 credentials=credentials,
                                                 formats=config.variable_measure)
                         for s in config.scanners}
        self.displays = {d.id: DisplayWriter(d) for d in config.displays}
        self.scales = {s.id: ScaleSupervisor(s, bus, backoff_max_s=config.queue.backoff_max_s)
                       for s in config.scales}
        d = config.discovery
        self.network: NetworkDiscovery | None = None
        if d.zeroconf:
            advert = (box_service_info(config.box.id, config.api.port, d.interfaces,
                                       config.box.store) if d.advertise else None)
            self.network = NetworkDiscovery(d.interfaces, advertise=advert)
        # Always watching: even with every bus off, configured paths are checked.
        self.watcher: DeviceWatcher | None = DeviceWatcher(
            config, bus, self.env, network=self.network, gate=self.gate,
            printer_ready=printer_ready)
        if self.network is not None:
            self.network.on_change = self.watcher.wake
        self.uevents: UeventListener | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the scanner and scale readers, zeroconf and the watcher (none waits for one)."""
        self._tasks = [asyncio.create_task(s.run(), name=f"scanner-{sid}")
                       for sid, s in self.scanners.items()]
        self._tasks += [asyncio.create_task(s.run(), name=f"scale-{sid}")
                        for sid, s in self.scales.items()]
        if self.network is not None:
            await self.network.start()
        if self.watcher is not None:
            if self.config.discovery.uevents and (self.config.discovery.usb
                                                  or self.config.discovery.serial):
                listener = UeventListener(self.watcher.wake)
                if listener.start():
                    self.uevents = listener
            self._tasks.append(asyncio.create_task(self.watcher.run(), name="device-watcher"))

    async def stop(self) -> None:
        """Stop everything; each reader lets go of its device within a poll interval."""
        for s in self.scanners.values():
            await s.stop()
        for scale in self.scales.values():
            await scale.stop()
        if self.watcher is not None:
            await self.watcher.stop()
        if self.uevents is not None:
            self.uevents.close()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_S)
            for t in late:
                log.warning("%s did not stop in time", t.get_name())
                t.cancel()
            for t in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        for w in self.displays.values():
            await w.close()
        if self.network is not None:
            await self.network.close()
