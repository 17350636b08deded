"""In-process event bus: publishers never wait; a subscriber that falls behind is dropped."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

log = logging.getLogger(__name__)

Event = Mapping[str, Any]
DEFAULT_BACKLOG = 1000


class Subscription:
    """One subscriber's bounded queue; iterate it for events until it is closed or dropped."""

    def __init__(self, bus: EventBus, backlog: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(backlog + 1)
        self._backlog = backlog
        self.dropped = False
        self.closed = False

    def _offer(self, event: Event) -> bool:
        if self._queue.qsize() >= self._backlog:
            # Leave room for the end marker so the reader wakes up and learns it was dropped.
            self.dropped = True
            self._end()
            return False
        self._queue.put_nowait(event)
        return True

    def _end(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    def close(self) -> None:
        """Stop receiving; the iterator ends after the events already queued."""
        self._bus._remove(self)
        self._end()

    async def get(self) -> Event | None:
        """The next event, or None once the subscription is closed or dropped."""
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Event]:
        while (event := await self._queue.get()) is not None:
            yield event

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fan-out of state-change events to every current subscriber (loop thread only)."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self.published = 0

    def subscribe(self, backlog: int = DEFAULT_BACKLOG) -> Subscription:
        """A new subscription receiving every event published from now on."""
        sub = Subscription(self, backlog)
        self._subs.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Hand `event` to every subscriber without waiting; drop any whose backlog is full."""
        self.published += 1
        for sub in list(self._subs):
            if not sub._offer(event):
                log.warning("event subscriber dropped: more than %d events behind", sub._backlog)
                self._remove(sub)

    def close(self) -> None:
        """End every subscription (at shutdown)."""
        for sub in list(self._subs):
            sub.close()

    @property
    def subscribers(self) -> int:
        """How many subscriptions are live."""
        return len(self._subs)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
