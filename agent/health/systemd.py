"""systemd integration without a dependency: sd_notify over $NOTIFY_SOCKET (READY, STATUS,
STOPPING, WATCHDOG) and a watchdog fed from the event loop only while every part is alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping

from agent.api.context import AgentContext

log = logging.getLogger(__name__)


def notify(message: str, env: Mapping[str, str] | None = None) -> bool:
    """Send `message` ("READY=1", "WATCHDOG=1", …) to the service manager; False without one."""
    path = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not path:
        return False
    addr = "\0" + path[1:] if path.startswith("@") else path  # '@': abstract namespace
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            s.sendall(message.encode("utf-8"))
    except OSError as e:
        log.warning("cannot notify the service manager at %s: %s", path, e)
        return False
    return True


def watchdog_period_s(env: Mapping[str, str] | None = None) -> float | None:
    """How often to feed the watchdog: half of $WATCHDOG_USEC (None when it is not ours)."""
    env = env if env is not None else os.environ
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


def stalled_parts(ctx: AgentContext, now: float, stall_s: float) -> list[str]:
    """What is not alive: a printer worker task that ended, a device thread that died or whose
    call has run longer than `stall_s`, the journal writer dead or stuck. Read on the loop, so
    a blocked loop is itself caught: nothing runs to feed the watchdog."""
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


async def feed_watchdog(ctx: AgentContext, period_s: float, stall_s: float) -> None:
    """Every `period_s`: WATCHDOG=1 if nothing is stalled, else no feeding and one log line
    (systemd then restarts the daemon after WatchdogSec)."""
    last: list[str] = []
    while True:
        await asyncio.sleep(period_s)
        stalled = stalled_parts(ctx, time.monotonic(), stall_s)
        if not stalled:
            if last:
                log.warning("看门狗恢复 / watchdog fed again: every part is alive")
            notify("WATCHDOG=1")
        elif [s.split(" for ")[0] for s in stalled] != [s.split(" for ")[0] for s in last]:
            log.error("看门狗停止喂狗 / watchdog not fed: %s", "; ".join(stalled))
        last = stalled


def announce_ready(ctx: AgentContext, url: str) -> asyncio.Task[None] | None:
    """READY=1 (the API listens, the journal is open) and, under a watchdog, its feeder task."""
    journal = (f", journal at seq {ctx.journal.head.size - 1}" if ctx.journal is not None
               else "")
    notify(f"READY=1\nSTATUS=就绪 / ready on {url}{journal}")
    period = watchdog_period_s()
    if period is None:
        return None
    notify("WATCHDOG=1")
    return asyncio.create_task(feed_watchdog(ctx, period, ctx.config.health.stall_s),
                               name="watchdog")


async def stop_watchdog(task: asyncio.Task[None] | None) -> None:
    """STOPPING=1 and end the feeder."""
    notify("STOPPING=1")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
