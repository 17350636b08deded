"""Supervisor approvals: salted scrypt hashes of PINs and badges, checks, and approval bodies.

A hash is stored in the configuration as `scrypt$N$r$p$<salt b64>$<hash b64>` (per-entry random
salt, 32-byte key): `python -m agent.sales.approvals` reads a PIN or badge code on standard input
and prints one. PIN attempts are throttled: after `MAX_FAILURES` wrong credentials in a row for
one supervisor (or for "any supervisor" when no id is given) further attempts are refused for
`LOCKOUT_S` seconds, so a 4-6 digit PIN cannot be guessed through the local API.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from agent.sales import ApprovalError
from drivers import InvalidInput
from validation.decode import unknown_keys

SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1
MAX_FAILURES = 5
LOCKOUT_S = 300.0
MAX_SECRET = 128

Via = Literal["pin", "badge"]
ACTIONS = ("refund", "void", "drawer_open", "day_reopen")


@dataclass(frozen=True)
class SecretHash:
    """A parsed scrypt hash: parameters, salt and derived key."""

    n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(secret: str, n: int, r: int, p: int, salt: bytes, size: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=size,
                          maxmem=256 * n * r + (1 << 20))


def hash_secret(secret: str, *, n: int = DEFAULT_N, r: int = DEFAULT_R, p: int = DEFAULT_P,
                salt: bytes | None = None) -> str:
    """The configuration form of a PIN's or badge code's hash (a fresh salt unless given)."""
    salt = salt if salt is not None else os.urandom(16)
    key = _derive(secret.strip(), n, r, p, salt, 32)
    return f"{SCHEME}${n}${r}${p}${_b64(salt)}${_b64(key)}"


def parse_hash(text: str) -> SecretHash:
    """Parse a stored hash; ValueError says what is wrong with it."""
    parts = text.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        raise ValueError("must be scrypt$N$r$p$salt$hash (`python -m agent.sales.approvals` "
                         "makes one)")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (ValueError, binascii.Error):
        raise ValueError("has a malformed number or base64 part") from None
    if n < 2**10 or n > 2**20 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
        raise ValueError("scrypt parameters out of range (N a power of two 2^10-2^20, r 1-32, "
                         "p 1-16)")
    if len(salt) < 8 or len(key) < 16:
        raise ValueError("salt must be at least 8 bytes and the hash at least 16")
    return SecretHash(n, r, p, salt, key)


def verify_secret(secret: str, stored: str) -> bool:
    """True if `secret` hashes to `stored` (constant-time comparison of the derived keys)."""
    try:
        h = parse_hash(stored)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(secret.strip(), h.n, h.r, h.p, h.salt, len(h.key)), h.key)


@dataclass(frozen=True)
class SupervisorSecret:
    """What the approval check needs of a configured supervisor."""

    id: str
    name: str
    pin_hash: str | None
    badge_hash: str | None


@dataclass(frozen=True)
class Credential:
    """A supervisor's proof from a request: a PIN (with or without the supervisor id) or a badge."""

    via: Via
    secret: str
    supervisor: str | None = None


@dataclass(frozen=True)
class Approved:
    """Who approved, and how."""

    approver: str
    name: str
    via: Via


def parse_credential(raw: object, path: str = "approval") -> Credential:
    """`{"supervisor": id, "pin": …}`, `{"pin": …}` or `{"badge": …}`; InvalidInput names it."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(path, 'must be an object: {"supervisor": id, "pin": …} or '
                                 '{"badge": …}')
    for problem in unknown_keys(raw, {"supervisor", "pin", "badge"}, path, toml=False)[:1]:
        raise InvalidInput(problem.path, problem.reason)
    given = [k for k in ("pin", "badge") if k in raw]
    if len(given) != 1:
        raise InvalidInput(path, "give exactly one of pin or badge")
    via: Via = "pin" if given[0] == "pin" else "badge"
    secret = raw[via]
    if not isinstance(secret, str) or not secret.strip() or len(secret) > MAX_SECRET:
        raise InvalidInput(f"{path}.{via}", f"must be a non-empty string of at most {MAX_SECRET}")
    sup = raw.get("supervisor")
    if sup is not None and (not isinstance(sup, str) or not sup):
        raise InvalidInput(f"{path}.supervisor", "must be a supervisor id")
    return Credential(via, secret, sup)


def match(credential: Credential, supervisors: tuple[SupervisorSecret, ...]) -> Approved | None:
    """The supervisor whose hash the credential matches (blocking: scrypt per candidate)."""
    for s in supervisors:
        if credential.supervisor is not None and s.id != credential.supervisor:
            continue
        stored = s.pin_hash if credential.via == "pin" else s.badge_hash
        if stored is not None and verify_secret(credential.secret, stored):
            return Approved(s.id, s.name, credential.via)
    return None


class Approvals:
    """Checks credentials against the configured supervisors, with a lockout after failures."""

    def __init__(self, supervisors: tuple[SupervisorSecret, ...],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.supervisors = supervisors
        self._clock = clock
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}

    async def check(self, raw: object, action: str) -> Approved:
        """The approver for `raw` (the request's `approval`); ApprovalError (403) otherwise."""
        if raw is None:
            raise ApprovalError("approval", f"{action} needs a supervisor's approval (badge or "
                                            "PIN)")
        cred = parse_credential(raw)
        if not self.supervisors:
            raise ApprovalError("approval", "no supervisor is configured to approve "
                                            "(journal.supervisors)")
        if cred.supervisor is not None and all(s.id != cred.supervisor
                                                for s in self.supervisors):
            raise ApprovalError("approval.supervisor", f"no supervisor {cred.supervisor!r}")
        slot = (cred.via, cred.supervisor or "*")
        count, until = self._failures.get(slot, (0, 0.0))
        now = self._clock()
        if count >= MAX_FAILURES:
            if now < until:
                raise ApprovalError("approval", f"too many wrong attempts; try again in "
                                                f"{int(until - now) + 1} s")
            count = 0  # the lockout is over: a fresh series of attempts
        approved = await asyncio.to_thread(match, cred, self.supervisors)
        if approved is None:
            count += 1
            self._failures[slot] = (count, now + LOCKOUT_S if count >= MAX_FAILURES else 0.0)
            raise ApprovalError("approval", f"the {cred.via} does not match a supervisor")
        self._failures.pop(slot, None)
        return approved


def approval_body(approved: Approved, action: str, subject: str, *, amount: int | None = None,
                  ref_seq: int | None = None) -> dict[str, Any]:
    """The body of the `approval` record appended before the action it approves."""
    body: dict[str, Any] = {"action": action, "approver": approved.approver, "via": approved.via,
                            "subject": subject[:200]}
    if amount is not None:
        body["amount"] = amount
    if ref_seq is not None:
        body["ref_seq"] = ref_seq
    return body


def main(argv: list[str] | None = None) -> int:
    """Read a PIN or badge code from standard input; print its hash for the configuration."""
    del argv
    secret = sys.stdin.readline().strip()
    if not secret:
        print("usage: echo PIN | python -m agent.sales.approvals", file=sys.stderr)
        return 2
    print(hash_secret(secret))
    return 0


if __name__ == "__main__":
    sys.exit(main())
