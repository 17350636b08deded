"""GET /v1/health: ok, degraded (with reasons) or stopping; the HQ link and the journal."""

from __future__ import annotations

import shutil
import time

from aiohttp import web

from agent.api.context import CTX, AgentContext
from agent.api.http import json_response
from agent.health.report import JournalHealth, assess
from agent.printing.queue.service import wall_ms

routes = web.RouteTableDef()


def journal_health(ctx: AgentContext) -> JournalHealth | None:
    """The journal writer's state (None when the journal is off)."""
    j = ctx.journal
    if j is None:
        return None
    since = j.busy_since
    return JournalHealth(j.writer_alive, j.write_error,
                         time.monotonic() - since if since is not None else 0.0)


def disk_free_mb(ctx: AgentContext) -> int | None:
    """Free space on the state directory's file system (None if it cannot be read)."""
    try:
        return shutil.disk_usage(ctx.config.box.state_dir).free // (1024 * 1024)
    except OSError:
        return None


@routes.get("/v1/health")
async def health(request: web.Request) -> web.Response:
    """Liveness and a summary; 503 while stopping, `health.degraded_status` when degraded."""
    ctx = request.app[CTX]
    box, hcfg = ctx.config.box, ctx.config.health
    snaps = [(pid, s.snapshot(), s.problem()) for pid, s in ctx.printers.items()]
    counts = await ctx.queue.store.counts()
    link = ctx.link.snapshot() if ctx.link is not None else None
    journal = journal_health(ctx)
    free = disk_free_mb(ctx)
    status, reasons = assess(
        accepting=ctx.accepting,
        printers=[(pid, problem, s.last_error or ",".join(s.detail))
                  for pid, s, problem in snaps],
        link=link, journal=journal, disk_free_mb=free,
        disk_min_free_mb=hcfg.disk_min_free_mb, stall_s=hcfg.stall_s)
    code = {"ok": 200, "degraded": hcfg.degraded_status}.get(status, 503)
    return json_response({
        "status": status,
        "reasons": [r.to_obj() for r in reasons],
        "box": {"id": box.id, "store": box.store, "name": box.name},
        "uptime_s": (wall_ms() - ctx.started_ms) // 1000,
        "printers": {"total": len(snaps), "ready": sum(s.ready for _, s, _ in snaps)},
        "uplink": link.to_obj() if link is not None else None,
        "journal": None if ctx.journal is None or journal is None else {
            "ok": journal.alive and journal.write_error is None, "head": ctx.journal.head.size,
            "detail": journal.write_error},
        "disk": {"free_mb": free, "min_free_mb": hcfg.disk_min_free_mb},
        "jobs": counts}, code)
