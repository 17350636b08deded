"""Browser sign-in on the box's local API: a page trades the API token once for an HttpOnly
cookie, so the token never travels in a URL (docs/local-api.md, "Browsers"). Pure: the caller
passes `now_ms` and the random bytes."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

COOKIE = "storelink_session"
CSRF_HEADER = "X-CSRF-Token"
TTL_MS = 12 * 3600 * 1000
"""A sign-in lasts a working day."""
MAX_SESSIONS = 64
"""A shop has a few PCs and tablets; the oldest sign-in goes when a 65th comes."""
FAIL_WINDOW_MS = 60_000
FAIL_LIMIT = 10
"""Wrong tokens allowed per address per minute before 429."""
MAX_ADDRESSES = 1024


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


@dataclass
class PageSessions:
    """The box's signed-in browsers (by the SHA-256 of their cookie) and recent wrong tokens."""

    token: str
    sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    """cookie hash → (CSRF token, expiry ms), oldest first."""
    failures: dict[str, list[int]] = field(default_factory=dict)

    def token_ok(self, given: str) -> bool:
        """Whether `given` is the configured API token (constant time)."""
        return hmac.compare_digest(given.encode(), self.token.encode())

    def blocked(self, address: str, now_ms: int) -> bool:
        """Whether `address` gave FAIL_LIMIT wrong tokens in the last minute."""
        recent = [t for t in self.failures.get(address, []) if now_ms - t < FAIL_WINDOW_MS]
        if recent:
            self.failures[address] = recent
        else:
            self.failures.pop(address, None)
        return len(recent) >= FAIL_LIMIT

    def failed(self, address: str, now_ms: int) -> None:
        """Count a wrong token from `address`."""
        if address not in self.failures and len(self.failures) >= MAX_ADDRESSES:
            self.failures.pop(next(iter(self.failures)))
        self.failures.setdefault(address, []).append(now_ms)

    def open(self, now_ms: int, secret: bytes) -> tuple[str, str, int]:
        """A new session from 48 random bytes: (cookie value, CSRF token, expiry ms)."""
        if len(secret) < 48:
            raise ValueError("a session needs 48 random bytes")
        cookie, csrf = secret[:32].hex(), secret[32:48].hex()
        self._expire(now_ms)
        while len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))
        expires = now_ms + TTL_MS
        self.sessions[_key(cookie)] = (csrf, expires)
        return cookie, csrf, expires

    def check(self, cookie: str, now_ms: int) -> tuple[str, int] | None:
        """(CSRF token, expiry ms) of a live session with this cookie, else None."""
        found = self.sessions.get(_key(cookie))
        if found is None or found[1] <= now_ms:
            return None
        return found

    def close(self, cookie: str) -> None:
        """Sign the session out."""
        self.sessions.pop(_key(cookie), None)

    def _expire(self, now_ms: int) -> None:
        for k in [k for k, (_, exp) in self.sessions.items() if exp <= now_ms]:
            del self.sessions[k]
