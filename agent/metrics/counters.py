"""What the box counts while it runs, for /metrics (pure: events and `now` in): print latency
from acceptance to printed, MQTT (re)connections, HQ's journal acknowledgements."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.events import EventBus
from sync.metrics_text import Histogram

log = logging.getLogger(__name__)
LATENCY_BOUNDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
MAX_WAITING = 10_000
"""Jobs whose acceptance time is remembered at most (the oldest are forgotten first)."""


def _latency() -> Histogram:
    return Histogram.of(LATENCY_BOUNDS)


@dataclass
class BoxCounters:
    """Counted since the daemon started."""

    latency: Histogram = field(default_factory=_latency)
    queued_at: OrderedDict[str, int] = field(default_factory=OrderedDict)
    mqtt_connects: int = 0
    journal_acked: int | None = None
    """Records HQ has acknowledged (None until the uplink knows)."""
    last_ack_ms: int | None = None

    @property
    def mqtt_reconnects(self) -> int:
        """Connections to the broker after the first."""
        return max(0, self.mqtt_connects - 1)

    def job_event(self, event: Mapping[str, Any]) -> None:
        """A job state change from the bus: a job accepted (or put back) starts its clock, a
        printed one is observed in seconds since then."""
        if event.get("type") != "job":
            return
        job_id, state, at_ms = event.get("id"), event.get("state"), event.get("at_ms")
        if not isinstance(job_id, str) or not isinstance(at_ms, int):
            return
        if state == "queued":
            if job_id not in self.queued_at:
                self.queued_at[job_id] = at_ms
                while len(self.queued_at) > MAX_WAITING:
                    self.queued_at.popitem(last=False)
        elif state == "printed":
            start = self.queued_at.pop(job_id, None)
            if start is not None:
                self.latency.observe(max(0, at_ms - start) / 1000)
        elif state in ("failed", "expired", "canceled", "unknown"):
            self.queued_at.pop(job_id, None)

    def connected(self, acked: int) -> None:
        """The uplink connected to the broker; HQ had acknowledged `acked` records."""
        self.mqtt_connects += 1
        self.journal_acked = acked

    def acked(self, size: int, now_ms: int) -> None:
        """HQ acknowledged the journal up to `size` records at `now_ms`."""
        self.journal_acked = max(size, self.journal_acked or 0)
        self.last_ack_ms = now_ms


async def count_jobs(bus: EventBus, counters: BoxCounters) -> None:
    """Feed every job event on the bus to `counters` until cancelled (resubscribing if the bus
    ever drops this subscriber)."""
    while True:
        sub = bus.subscribe()
        try:
            while (event := await sub.get()) is not None:
                counters.job_event(event)
        finally:
            sub.close()
        await asyncio.sleep(0.1)
