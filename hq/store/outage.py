"""A store outage logged once when it begins and once when it ends, not once per request."""

from __future__ import annotations

import logging
import threading


class OutageLog:
    """Counts what the unreachable store turned away; logs the first and the recovery only."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self._log = log
        self._what = what
        self._lock = threading.Lock()
        self.turned_away = 0
        """How many of `what` the current outage turned away (0 while the store is up)."""

    def failed(self, reason: object) -> None:
        """The store could not be reached for one of `what`: logged if it is the first."""
        with self._lock:
            self.turned_away += 1
            first = self.turned_away == 1
        if first:
            self._log.warning("store unavailable, %s turned away until it is back: %s",
                              self._what, reason)

    def succeeded(self) -> None:
        """The store answered: the outage, if there was one, is over (logged once)."""
        if not self.turned_away:
            return
        with self._lock:
            n, self.turned_away = self.turned_away, 0
        if n:
            self._log.warning("store reachable again; %d %s turned away meanwhile", n, self._what)
