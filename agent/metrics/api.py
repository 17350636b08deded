"""GET /metrics: the box in the Prometheus text format, behind the local API's access rules
(the bearer token when one is configured, else a loopback-only listener; docs/security.md)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from agent.api.context import CTX, AgentContext
from agent.api.http import error
from agent.health.api import disk_free_mb, journal_health
from agent.health.report import assess
from agent.metrics.counters import BoxCounters
from agent.printing.queue.lifecycle import JobState
from agent.printing.queue.service import wall_ms
from sync.metrics_text import Family, counter, exposition, gauge

routes = web.RouteTableDef()
"""The only query parameter: the token, for scrapers that cannot send a header."""


@dataclass(frozen=True)
class BoxFigures:
    """What one scrape reports, read from the running box."""

    jobs: dict[str, int]
    devices: tuple[tuple[str, str, bool], ...]
    """(kind, id, up) of every configured device."""
    alarms: dict[str, int]
    """Active health reasons by code (hq_link, printer, journal, disk)."""
    journal_size: int | None
    sync: tuple[bool, int, int | None] | None
    """(connected, records not yet acknowledged, seconds since the last acknowledgement)."""


def families(fig: BoxFigures, counters: BoxCounters) -> list[Family]:
    """The box's metric families (pure)."""
    states = [s.value for s in JobState]
    out = [
        Family("storelink_jobs", "gauge", "Print jobs in the box's queue by state.", ("state",),
               tuple(((s,), float(fig.jobs.get(s, 0))) for s in states)),
        counters.latency.family("storelink_print_latency_seconds",
                                "Seconds from a job's acceptance to its printing."),
        Family("storelink_device_up", "gauge", "1 when a configured device is ready, else 0.",
               ("kind", "device"),
               tuple(((kind, dev), 1.0 if up else 0.0) for kind, dev, up in fig.devices)),
        Family("storelink_alarms", "gauge", "Things wrong now (the reasons of /v1/health) by "
               "code.", ("code",),
               tuple(((c,), float(fig.alarms.get(c, 0)))
                     for c in ("hq_link", "printer", "journal", "disk"))),
    ]
    if fig.journal_size is not None:
        out.append(gauge("storelink_journal_head_seq", "Sequence number of the journal's last "
                         "record (-1 when empty).", fig.journal_size - 1))
    if fig.sync is not None:
        connected, unacked, age = fig.sync
        out += [
            gauge("storelink_mqtt_connected", "1 while the box is connected to HQ's broker.",
                  1 if connected else 0),
            counter("storelink_mqtt_reconnects", "Connections to HQ's broker after the first.",
                    counters.mqtt_reconnects),
            gauge("storelink_sync_unacked_records", "Journal records HQ has not yet "
                  "acknowledged.", unacked)]
        if age is not None:
            out.append(gauge("storelink_sync_last_ack_age_seconds", "Seconds since HQ last "
                             "acknowledged the journal (since the start until it first did).",
                             age))
    return out


def _devices(ctx: AgentContext) -> list[tuple[str, str, bool]]:
    out = [("printer", pid, s.snapshot().ready) for pid, s in ctx.printers.items()]
    d = ctx.devices
    if d is not None:
        out += [("scanner", i, s.snapshot().connected) for i, s in d.scanners.items()]
        out += [("scale", i, s.snapshot().online) for i, s in d.scales.items()]
        out += [("display", i, s.snapshot().connected) for i, s in d.displays.items()]
    return sorted(out)


async def gather(ctx: AgentContext) -> BoxFigures:
    """Read the figures of one scrape (the queue's counts in its thread)."""
    counts = await ctx.queue.store.counts()
    link = ctx.link.snapshot() if ctx.link is not None else None
    _, reasons = assess(
        accepting=ctx.accepting,
        printers=[(pid, s.problem(), "") for pid, s in ctx.printers.items()],
        link=link, journal=journal_health(ctx),
        disk_free_mb=await asyncio.to_thread(disk_free_mb, ctx),
        disk_min_free_mb=ctx.config.health.disk_min_free_mb, stall_s=ctx.config.health.stall_s)
    alarms: dict[str, int] = {}
    for r in reasons:
        alarms[r.code] = alarms.get(r.code, 0) + 1
    size = ctx.journal.head.size if ctx.journal is not None else None
    sync = None
    if ctx.config.sync is not None:
        c = ctx.counters
        acked = c.journal_acked or 0
        since = c.last_ack_ms if c.last_ack_ms is not None else ctx.started_ms
        connected = link is not None and link.state.value == "connected"
        sync = (connected, max(0, (size or 0) - acked), max(0, wall_ms() - since) // 1000)
    return BoxFigures(counts, tuple(_devices(ctx)), alarms, size, sync)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """The box's metrics in the Prometheus text format; 400 naming any query parameter."""
    for name in request.query:
        return error(400, name, "unknown query parameter (none is taken)")
    ctx = request.app[CTX]
    fams = families(await gather(ctx), ctx.counters)
    expo = await asyncio.to_thread(exposition)
    body = expo.render(fams)
    return web.Response(body=body, headers={"Content-Type": expo.content_type,
                                            "Cache-Control": "no-store"})
