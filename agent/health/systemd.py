"""The box under systemd: READY=1 once the API listens and the journal is open, and a
watchdog fed only while the event loop, the journal writer and every printer worker live."""

from __future__ import annotations

import asyncio
import time

from agent.api.context import AgentContext
from sync.systemd import announce_ready as announce
from sync.systemd import notify, stop_watchdog, watchdog_period_s

__all__ = ["announce_ready", "notify", "stalled_parts", "stop_watchdog", "watchdog_period_s"]


def stalled_parts(ctx: AgentContext, now: float, stall_s: float) -> list[str]:
    """What is not alive: a printer worker task that ended, a device thread that died or whose
    call has run longer than `stall_s`, the journal writer dead or stuck."""
    out: list[str] = []
    tasks = {t.get_name(): t for t in ctx.tasks}
    for pid, sup in ctx.printers.items():
        task = tasks.get(f"printer-{pid}")
        if ctx.accepting and task is not None and task.done():
            out.append(f"printer {pid}: worker task ended")
        dev = sup.device
        since = dev.busy_since
        if not dev.alive and ctx.accepting:
            out.append(f"printer {pid}: device thread died")
        elif since is not None and now - since > stall_s:
            out.append(f"printer {pid}: device call stuck for {now - since:.0f} s")
    j = ctx.journal
    if j is not None:
        since = j.busy_since
        if not j.writer_alive and ctx.accepting:
            out.append("journal: writer stopped")
        elif since is not None and now - since > stall_s:
            out.append(f"journal: one write stuck for {now - since:.0f} s")
    return out


def announce_ready(ctx: AgentContext, url: str) -> asyncio.Task[None] | None:
    """READY=1 (the API listens, the journal is open) and, under a watchdog, its feeder task."""
    journal = (f", journal at seq {ctx.journal.head.size - 1}" if ctx.journal is not None
               else "")
    stall_s = ctx.config.health.stall_s
    return announce(f"就绪 / ready on {url}{journal}",
                    lambda: stalled_parts(ctx, time.monotonic(), stall_s))
