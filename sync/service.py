"""Run a service in the foreground: log to stderr, stop it gracefully on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable

__all__ = ["LOG_FORMAT", "STOP_SIGNALS", "JournaldFormatter", "run_until_signalled"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class JournaldFormatter(logging.Formatter):
    """`<priority>name: message` — journald reads the syslog priority from the prefix and
    stamps the time itself; used when stderr is connected to the journal."""

    def format(self, record: logging.LogRecord) -> str:
        """One record, its level as a syslog priority (3 error … 7 debug)."""
        prio = (3 if record.levelno >= logging.ERROR else 4 if record.levelno >= logging.WARNING
                else 6 if record.levelno >= logging.INFO else 7)
        return f"<{prio}>{record.name}: {super().format(record)}"


def run_until_signalled(serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Log INFO and up to stderr (unless logging is set up; journald priorities under
    systemd, where $JOURNAL_STREAM is set), then run `serve(stop)` on a new
    event loop until it returns; SIGTERM or SIGINT sets `stop`. Its exceptions propagate."""
    if not logging.getLogger().handlers:
        if os.environ.get("JOURNAL_STREAM"):
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(JournaldFormatter("%(message)s"))
            logging.basicConfig(level=logging.INFO, handlers=[handler])
        else:
            logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    asyncio.run(main())
