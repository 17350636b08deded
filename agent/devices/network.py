"""Zeroconf: browse for network printers and advertise the box as _storelink._tcp.

Bound to the configured interface addresses only (loopback by default): the box never
multicasts on an interface nobody listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Sequence
from typing import Any

from zeroconf import Error as ZeroconfError
from zeroconf import IPVersion, ServiceInfo, ServiceStateChange
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from agent.devices.matching import NetService
from agent.devices.report import PRINTER_SERVICES

log = logging.getLogger(__name__)

BOX_SERVICE = "_storelink._tcp.local."
RESOLVE_TIMEOUT_MS = 3000
CLOSE_TIMEOUT_S = 2.0


def ip_version(interfaces: Sequence[str]) -> IPVersion:
    """V4Only, V6Only or All, from the families of the interface addresses."""
    families = {ipaddress.ip_address(a).version for a in interfaces}
    if families == {4}:
        return IPVersion.V4Only
    if families == {6}:
        return IPVersion.V6Only
    return IPVersion.All


def box_host_name(box_id: str) -> str:
    """The host name the box advertises for itself: `storelink-<box id>.local`."""
    label = re.sub(r"[^A-Za-z0-9-]", "-", box_id).strip("-").lower() or "box"
    return f"storelink-{label}.local"


def box_service_info(box_id: str, api_port: int, interfaces: Sequence[str],
                     store: str = "") -> ServiceInfo:
    """The box's advertisement: instance `box_id`, TXT id / port (/ store), the interfaces."""
    props = {"id": box_id, "port": str(api_port)}
    if store:
        props["store"] = store
    return ServiceInfo(BOX_SERVICE, f"{box_id}.{BOX_SERVICE}",
                       addresses=[socket.inet_pton(socket.AF_INET6 if ":" in a
                                                   else socket.AF_INET, a) for a in interfaces],
                       port=api_port, properties=props, server=box_host_name(box_id) + ".")


def _txt(info: AsyncServiceInfo) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in (info.properties or {}).items():
        key = k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
        out[key] = v.decode("utf-8", "replace") if isinstance(v, bytes) else ""
    return out


class NetworkDiscovery:
    """A zeroconf browser for `types` and, with `advertise`, the box's own service."""

    def __init__(self, interfaces: Sequence[str], *, types: Sequence[str] = PRINTER_SERVICES,
                 advertise: ServiceInfo | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.interfaces = tuple(interfaces)
        self.types = tuple(types)
        self.advertise = advertise
        self.on_change = on_change
        self.status = "off"
        self.registered_name: str | None = None
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._services: dict[tuple[str, str], NetService] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def zeroconf(self) -> Any:
        """The underlying Zeroconf instance (None before start)."""
        return self._zc.zeroconf if self._zc is not None else None

    def services(self) -> list[NetService]:
        """The services resolved so far and not removed since."""
        return list(self._services.values())

    async def start(self) -> None:
        """Bind to the interfaces, start browsing and (in the background) register the box."""
        try:
            self._zc = AsyncZeroconf(interfaces=list(self.interfaces),
                                     ip_version=ip_version(self.interfaces))
            await self._zc.zeroconf.async_wait_for_start()
            self._browser = AsyncServiceBrowser(self._zc.zeroconf, list(self.types),
                                                handlers=[self._on_state_change])
        except (OSError, ZeroconfError) as e:
            self.status = f"unavailable: {e}"
            log.warning("zeroconf is unavailable on %s: %s", ", ".join(self.interfaces), e)
            await self.close()
            return
        self.status = f"ok: zeroconf on {', '.join(self.interfaces)}"
        if self.advertise is not None:
            self._spawn(self._register(self.advertise))

    async def _register(self, info: ServiceInfo) -> None:
        assert self._zc is not None
        try:
            done = await self._zc.async_register_service(info, allow_name_change=True)
            await done
        except Exception as e:  # a name clash or a closed socket must not stop the daemon
            log.warning("advertising %s failed: %s", info.name, e)
            return
        self.registered_name = info.name
        log.info("advertised as %s on %s", info.name, ", ".join(self.interfaces))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_state_change(self, zeroconf: Any, service_type: str, name: str,
                         state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            if self._services.pop((service_type, name), None) is not None and self.on_change:
                self.on_change()
            return
        self._spawn(self._resolve(service_type, name))

    async def _resolve(self, service_type: str, name: str) -> None:
        if self._zc is None:
            return
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self._zc.zeroconf, RESOLVE_TIMEOUT_MS):
            return
        addresses = info.parsed_addresses()
        if not addresses or info.port is None:
            return
        host = next((a for a in addresses if ":" not in a), addresses[0])
        self._services[(service_type, name)] = NetService(service_type, name, host,
                                                          int(info.port), _txt(info))
        if self.on_change:
            self.on_change()

    async def close(self) -> None:
        """Stop browsing, withdraw the advertisement and release the sockets (bounded)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        zc, self._zc = self._zc, None
        browser, self._browser = self._browser, None
        with contextlib.suppress(Exception):
            if browser is not None:
                await browser.async_cancel()
        if zc is not None:
            try:
                await asyncio.wait_for(zc.async_close(), CLOSE_TIMEOUT_S)
            except (TimeoutError, OSError) as e:
                log.warning("closing zeroconf: %s", e)
        self.status = "off"


async def browse(interfaces: Sequence[str], wait_s: float,
                 types: Sequence[str] = PRINTER_SERVICES) -> tuple[list[NetService], str]:
    """Browse for `wait_s` seconds (the answers' deadline) and return what was resolved."""
    nd = NetworkDiscovery(interfaces, types=types)
    await nd.start()
    try:
        if nd.zeroconf is not None:
            await asyncio.sleep(wait_s)
        return nd.services(), nd.status
    finally:
        await nd.close()
