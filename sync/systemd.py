"""systemd's notify protocol without a dependency: sd_notify over the $NOTIFY_SOCKET datagram
socket (READY, STATUS, STOPPING, WATCHDOG) and a watchdog fed from the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping

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


async def feed_watchdog(stalled: Callable[[], list[str]], period_s: float) -> None:
    """Every `period_s`: WATCHDOG=1 when `stalled()` names nothing, else no feeding and one
    log line per change (systemd restarts the service after WatchdogSec). Runs on the loop,
    so a blocked loop feeds nothing either."""
    last: list[str] = []
    while True:
        await asyncio.sleep(period_s)
        now = stalled()
        if not now:
            if last:
                log.warning("看门狗恢复 / watchdog fed again: every part is alive")
            notify("WATCHDOG=1")
        elif [s.split(" for ")[0] for s in now] != [s.split(" for ")[0] for s in last]:
            log.error("看门狗停止喂狗 / watchdog not fed: %s", "; ".join(now))
        last = now


def announce_ready(status: str, stalled: Callable[[], list[str]]) -> asyncio.Task[None] | None:
    """READY=1 with `status` and, under a watchdog ($WATCHDOG_USEC), the feeder task."""
    notify(f"READY=1\nSTATUS={status}")
    period = watchdog_period_s()
    if period is None:
        return None
    notify("WATCHDOG=1")
    return asyncio.create_task(feed_watchdog(stalled, period), name="watchdog")


async def stop_watchdog(task: asyncio.Task[None] | None) -> None:
    """STOPPING=1 and end the feeder."""
    notify("STOPPING=1")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
