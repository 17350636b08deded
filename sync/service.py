"""Run a service in the foreground: log to stderr, stop it gracefully on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

__all__ = ["LOG_FORMAT", "STOP_SIGNALS", "run_until_signalled"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def run_until_signalled(serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Log INFO and up to stderr (unless logging is set up), then run `serve(stop)` on a new
    event loop until it returns; SIGTERM or SIGINT sets `stop`. Its exceptions propagate."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format=LOG_FORMAT)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    asyncio.run(main())
