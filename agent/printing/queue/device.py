"""A worker thread that runs one device's blocking calls in order, awaited from the event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DeviceThread:
    """Owns a device's blocking I/O; a daemon thread, so a call stuck in I/O cannot hold up exit."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[
            tuple[Callable[[], Any], concurrent.futures.Future[Any]] | None] = queue.SimpleQueue()
        self.busy_since: float | None = None
        """time.monotonic() when the call running now began (None while idle)."""
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the device thread after the calls before it; its result or exception."""
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._calls.put((fn, fut))
        return await asyncio.wrap_future(fut)

    def stop(self) -> None:
        """Let the thread end after the calls already queued."""
        self._calls.put(None)

    def _loop(self) -> None:
        while (item := self._calls.get()) is not None:
            fn, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            self.busy_since = time.monotonic()
            try:
                fut.set_result(fn())
            except BaseException as e:  # re-raised in the awaiting task
                fut.set_exception(e)
            finally:
                self.busy_since = None
