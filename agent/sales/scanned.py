"""Scanned codes that are configured credentials: recognised before a scan is published, held
privately for the approval that asks for them, never put on the bus or in a listing.

A supervisor's badge (or PIN) scanned on scanner `till` is held for `HOLD_MS`; a request's
`"approval": {"scanner": "till"}` takes it once. A worker's badge is recognised too: what the
bus gets is the worker's id, which the workshop station sends as the handover's `worker`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from agent.sales.approvals import SupervisorSecret, verify_secret
from agent.sales.config import JournalConfig

HOLD_MS = 60_000
"""How long a scanned supervisor credential waits for the approval that takes it."""
CACHE_SIZE = 4096
PIN_MAX = 12
"""Longer codes are not checked against PIN hashes: a PIN is typed, and each check is a scrypt
round (tens of milliseconds) that every first scan of a product code waits for."""

Role = Literal["supervisor", "worker"]


@dataclass(frozen=True)
class Recognised:
    """Whose credential a scanned code is."""

    role: Role
    who: str


@dataclass(frozen=True)
class _Held:
    code: str
    who: str
    at_ms: int


class CredentialScans:
    """Recognises configured credentials among scanned codes and holds supervisors' ones."""

    def __init__(self, supervisors: tuple[SupervisorSecret, ...],
                 workers: tuple[tuple[str, str], ...] = ()) -> None:
        self.supervisors = supervisors
        self.workers = {badge: wid for wid, badge in workers if badge}
        # Verdicts per code under a keyed digest: a product code costs its scrypt checks once,
        # and the cache holds no code in clear.
        self._key = os.urandom(32)
        self._cache: OrderedDict[bytes, Recognised | None] = OrderedDict()
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether any credential is configured (else scans need no check)."""
        return bool(self.workers) or any(s.pin_hash or s.badge_hash for s in self.supervisors)

    def recognise(self, code: str) -> Recognised | None:
        """Whose credential `code` is, or None (blocking: scrypt per configured hash)."""
        code = code.strip()
        wid = self.workers.get(code)
        if wid is not None:
            return Recognised("worker", wid)
        digest = hashlib.blake2b(code.encode("utf-8"), key=self._key, digest_size=32).digest()
        with self._lock:
            if digest in self._cache:
                self._cache.move_to_end(digest)
                return self._cache[digest]
        found: Recognised | None = None
        short = len(code) <= PIN_MAX
        for s in self.supervisors:
            hashes = (s.badge_hash, s.pin_hash if short else None)
            if any(h is not None and verify_secret(code, h) for h in hashes):
                found = Recognised("supervisor", s.id)
                break
        with self._lock:
            self._cache[digest] = found
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found

    def hold(self, scanner: str, code: str, who: Recognised, at_ms: int) -> None:
        """Keep a supervisor's scanned credential for the next approval naming `scanner`."""
        if who.role == "supervisor":
            with self._lock:
                self._held[scanner] = _Held(code.strip(), who.who, at_ms)

    def take(self, scanner: str, now_ms: int) -> str | None:
        """The credential scanned on `scanner` within HOLD_MS, once; None if there is none."""
        with self._lock:
            held = self._held.pop(scanner, None)
        if held is None or not 0 <= now_ms - held.at_ms <= HOLD_MS:
            return None
        return held.code


def credential_scans(journal: JournalConfig) -> CredentialScans:
    """The credentials `[journal]` configures (supervisors' hashes, workers' badges)."""
    return CredentialScans(journal.supervisors, tuple((w.id, w.badge) for w in journal.workers))
