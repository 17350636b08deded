"""GET /metrics: this HQ worker in the Prometheus text format, behind HQ's bearer token
(docs/hq.md, docs/deploy.md "Metrics"); and what the worker counts for it."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hq.fleet.hq_link import HqLinkSnapshot
from sync.metrics_text import Family

PRESENCES = ("online", "offline", "lost", "never", "unknown")
LINK_STATES = ("connecting", "connected", "down")
MAX_BOXES = 10_000
"""Boxes counted per label at most (only boxes HQ knows are counted at all)."""


@dataclass
class HqCounters:
    """Counted by this worker since it started; updated from the ingest threads."""

    verified: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    alarms: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def journal(self, box: str, verified: int, stored: int, alarm: str | None,
                refused: bool) -> None:
        """One journal batch of `box` handled."""
        with self._lock:
            if box in self.verified or len(self.verified) < MAX_BOXES:
                self.verified[box] += verified
                self.stored[box] += stored
            if alarm is not None:
                self.alarms[alarm] += 1
            if refused:
                self.errors["refused"] += 1

    def error(self, kind: str) -> None:
        """A message that could not be ingested: `bad_message`, `store_unavailable` (dropped
        while the store was unreachable; the box sends it again) or `failed`."""
        with self._lock:
            self.errors[kind] += 1

    def copy(self) -> HqCounters:
        """A consistent copy for one scrape."""
        with self._lock:
            return HqCounters(Counter(self.verified), Counter(self.stored),
                              Counter(self.errors), Counter(self.alarms))


def families(c: HqCounters, boxes: list[dict[str, Any]], link: HqLinkSnapshot | None
             ) -> list[Family]:
    """HQ's metric families (pure); `boxes` as fleet_view shows them."""
    presence = Counter(str(b["presence"]) for b in boxes)
    kinds = sorted(set(c.alarms) | {"fork", "gap", "key", "invalid", "malformed",
                                    "unknown_box"})
    errors = sorted(set(c.errors) | {"bad_message", "failed", "refused"})
    out = [
        Family("storelink_hq_records_verified", "counter", "Journal records HQ verified, by "
               "box.", ("box",), tuple(((b,), float(n)) for b, n in sorted(c.verified.items()))),
        Family("storelink_hq_records_stored", "counter", "Journal records HQ stored and "
               "countersigned, by box.", ("box",),
               tuple(((b,), float(n)) for b, n in sorted(c.stored.items()))),
        Family("storelink_hq_ingest_errors", "counter", "Messages from boxes HQ could not "
               "take: bad_message (undecodable), failed (HQ's fault), refused (journal).",
               ("kind",), tuple(((k,), float(c.errors[k])) for k in errors)),
        Family("storelink_hq_alarms", "counter", "Alarms raised, by kind.", ("kind",),
               tuple(((k,), float(c.alarms[k])) for k in kinds)),
        Family("storelink_hq_boxes", "gauge", "Boxes by the presence HQ shows.", ("state",),
               tuple(((p,), float(presence[p])) for p in PRESENCES)),
    ]
    if link is not None:
        out.append(Family("storelink_hq_broker_link", "gauge", "1 for the state of HQ's own "
                          "link to the broker.", ("state",),
                          tuple(((s,), 1.0 if link.state == s else 0.0) for s in LINK_STATES)))
    return out
