"""What the local API works on: the configuration, the queue, the event bus and the printers."""

from __future__ import annotations

import asyncio
import collections
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web

from agent.config import Config
from agent.events import EventBus
from agent.metrics.counters import BoxCounters
from agent.printing.jobs import PrintJob, is_label_printer, parse_job
from agent.printing.queue.service import PrintQueue, wall_ms
from agent.printing.queue.store import Submitted
from agent.printing.supervisor import PrinterSupervisor

if TYPE_CHECKING:
    from agent.audit_outbox import AuditOutbox
    from agent.devices.runtime import DeviceServices
    from agent.health.link import LinkMonitor
    from agent.journal.store import JournalStore
    from agent.pairing.state import PairingView
    from agent.sales.service import SalesService
    from agent.station.runner import StationRunner
    from agent.station.service import TaskService

PREVIEW_CACHE = 64


def local_addresses(limit: int = 8) -> list[str]:
    """The box's non-loopback IP addresses as the resolver knows them (no traffic is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    out: list[str] = []
    for *_, sockaddr in infos:
        addr = str(sockaddr[0])
        if addr not in out and not addr.startswith(("127.", "::1")):
            out.append(addr)
    return out[:limit]


@dataclass
class AgentContext:
    """Shared by every request handler; `accepting` turns False when the daemon stops."""

    config: Config
    queue: PrintQueue
    bus: EventBus
    printers: Mapping[str, PrinterSupervisor]
    started_ms: int = field(default_factory=wall_ms)
    accepting: bool = True
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    previews: collections.OrderedDict[str, bytes] = field(
        default_factory=collections.OrderedDict)
    devices: DeviceServices | None = None
    journal: JournalStore | None = None
    """The signed journal (None when journal.enabled is false)."""
    sales: SalesService | None = None
    """Sales, refunds, voids, day close, handovers and approvals on the journal."""
    audit_outbox: AuditOutbox | None = None
    """Audit records committed with their print job, on their way to the journal."""
    link: LinkMonitor | None = None
    """The link to HQ's broker (None without [sync])."""
    production: TaskService | None = None
    """Production tasks, splits and flow cards (the workshop station)."""
    stations: dict[str, StationRunner] = field(default_factory=dict)
    """The workshop stations configured (`[[stations]]`), by id."""
    pairing_view: Callable[[], PairingView] | None = None
    """Pairing with HQ while the box has no `[sync]`: what it shows (docs/protocol.md §12)."""
    switch_release: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the daemon must stop and exit EXIT_RESTART for systemd to start the release
    now `current` (an upgrade or its rollback; docs/deploy.md, "Upgrades")."""
    counters: BoxCounters = field(default_factory=BoxCounters)
    """What /metrics reports beside the current state (latency, reconnects, acks)."""
    restart_with: Config | None = None
    """The configuration to restart the services with (reload_config), once `restarting` is
    set."""
    restarting: asyncio.Event = field(default_factory=asyncio.Event)

    def restart(self, config: Config) -> None:
        """Ask the daemon to stop its services cleanly and start them again with `config`."""
        self.restart_with = config
        self.restarting.set()

    def base_url(self) -> str:
        """Where staff reach the status page."""
        api = self.config.api
        host = api.listen
        if host in ("0.0.0.0", "::"):
            addrs = local_addresses(1)
            host = addrs[0] if addrs else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{api.port}/"

    def self_test_job(self, printer_id: str) -> PrintJob:
        """A self-test ticket for `printer_id` with the box id, addresses and a QR to this page."""
        box = self.config.box
        now = wall_ms()
        data: dict[str, object] = {
            "box_id": box.id, "printer_id": printer_id, "addresses": local_addresses(),
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "url": self.base_url()}
        if box.store:
            data["store"] = box.store
        job_id = f"self-test-{printer_id}-{now}"
        printer = self.config.printer(printer_id)
        if printer is not None and is_label_printer(printer.profile):
            from agent.printing.templates.self_test import label as self_test_label

            return parse_job({"id": job_id, "printer": printer_id,
                              "document": self_test_label(data, printer.profile.name)})
        return parse_job({"id": job_id, "printer": printer_id, "template": "self_test",
                          "data": data})

    async def self_test(self, printer_id: str) -> Submitted:
        """Queue a self-test ticket on `printer_id`."""
        return await self.queue.submit(self.self_test_job(printer_id))

    def remember_preview(self, job_id: str, png: bytes) -> None:
        """Keep the last few rendered previews (a job's content never changes)."""
        self.previews[job_id] = png
        self.previews.move_to_end(job_id)
        while len(self.previews) > PREVIEW_CACHE:
            self.previews.popitem(last=False)


CTX = web.AppKey("ctx", AgentContext)
"""The typed key of the context in the aiohttp application state."""
