"""Supervisor approvals: salted scrypt hashes of PINs and badges, checks, and approval bodies.

A hash is stored in the configuration as `scrypt$N$r$p$<salt b64>$<hash b64>` (per-entry random
salt, 32-byte key): `python -m agent.sales.approvals` reads a PIN or badge code on standard input
and prints one. Wrong credentials are counted in `agent.sales.attempts` (per supervisor and for
all, persisted, exponential back-off), so a 4-6 digit PIN cannot be guessed through the local
API; every refusal is an `ApprovalRefused` that the sales service journals.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from agent.sales import ApprovalError
from agent.sales.attempts import GLOBAL, AttemptLog, Counter, supervisor_slot
from drivers import InvalidInput
from sync.journal import RecordError
from sync.journal.schema import ID, run
from validation.decode import unknown_keys


class HeldCredentials(Protocol):
    """Credentials scanned at the box's scanners, held privately (agent/sales/scanned.py)."""

    def take(self, scanner: str, now_ms: int) -> str | None:
        """The credential scanned on `scanner` lately, once; None if there is none."""


SCHEME = "scrypt"
DEFAULT_N, DEFAULT_R, DEFAULT_P = 2**14, 8, 1
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
    scanner: str | None = None
    """The badge is the one scanned on this scanner (`agent.sales.scanned`); `secret` is ''."""


@dataclass(frozen=True)
class Approved:
    """Who approved, and how."""

    approver: str
    name: str
    via: Via


def parse_credential(raw: object, path: str = "approval") -> Credential:
    """`{"supervisor": id, "pin": …}`, `{"pin": …}`, `{"badge": …}` or `{"scanner": id}` (the
    badge just scanned there); InvalidInput names the field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(path, 'must be an object: {"supervisor": id, "pin": …}, '
                                 '{"badge": …} or {"scanner": id}')
    for problem in unknown_keys(raw, {"supervisor", "pin", "badge", "scanner"}, path,
                                toml=False)[:1]:
        raise InvalidInput(problem.path, problem.reason)
    given = [k for k in ("pin", "badge", "scanner") if k in raw]
    if len(given) != 1:
        raise InvalidInput(path, "give exactly one of pin, badge or scanner")
    sup = raw.get("supervisor")
    if sup is not None and (not isinstance(sup, str) or not sup):
        raise InvalidInput(f"{path}.supervisor", "must be a supervisor id")
    if given[0] == "scanner":
        scanner = raw["scanner"]
        try:
            run(ID, scanner, f"{path}.scanner")
        except RecordError:
            raise InvalidInput(f"{path}.scanner", "must be a scanner id") from None
        return Credential("badge", "", sup, scanner)
    via: Via = "pin" if given[0] == "pin" else "badge"
    secret = raw[via]
    if not isinstance(secret, str) or not secret.strip() or len(secret) > MAX_SECRET:
        raise InvalidInput(f"{path}.{via}", f"must be a non-empty string of at most {MAX_SECRET}")
    return Credential(via, secret, sup)


def match(credential: Credential, supervisors: tuple[SupervisorSecret, ...]) -> Approved | None:
    """The supervisor whose hash the credential matches (blocking: scrypt per candidate)."""
    for s in supervisors:
        if credential.supervisor is not None and s.id != credential.supervisor:
            continue
        # A code held at a scanner was recognised there as a badge or a PIN.
        stored = ((s.badge_hash, s.pin_hash) if credential.scanner is not None
                  else (s.pin_hash if credential.via == "pin" else s.badge_hash,))
        if any(h is not None and verify_secret(credential.secret, h) for h in stored):
            return Approved(s.id, s.name, credential.via)
    return None


class ApprovalRefused(ApprovalError):
    """A credential refused (wrong, unknown supervisor, or tried while backing off); the sales
    service journals `event` and `detail` as an audit record before answering 403."""

    def __init__(self, field: str, reason: str, event: str, detail: str) -> None:
        super().__init__(field, reason)
        self.event = event
        self.detail = detail


def _counts(counters: list[Counter], now_ms: int) -> str:
    parts = []
    for c in counters:
        who = "all supervisors" if c.slot == GLOBAL else c.slot.split(":", 1)[1]
        wait = c.remaining_ms(now_ms)
        parts.append(f"{who}: {c.failures} in a row" + (f", next check in {math.ceil(wait / 1000)}"
                                                          " s" if wait else ""))
    return "; ".join(parts)


class Approvals:
    """Checks credentials against the configured supervisors, backing off after failures."""

    def __init__(self, supervisors: tuple[SupervisorSecret, ...],
                 clock: Callable[[], float] = time.time, *, attempts: AttemptLog | None = None,
                 scans: HeldCredentials | None = None) -> None:
        self.supervisors = supervisors
        self._clock = clock
        self.attempts = attempts if attempts is not None else AttemptLog()
        self.scans = scans
        # One check at a time: concurrent guesses must not all pass the gate before the first
        # failure is counted.
        self._serial = asyncio.Lock()

    async def check(self, raw: object, action: str) -> Approved:
        """The approver for `raw` (the request's `approval`); ApprovalError (403) otherwise."""
        if raw is None:
            raise ApprovalError("approval", f"{action} needs a supervisor's approval (badge or "
                                            "PIN)")
        cred = parse_credential(raw)
        if not self.supervisors:
            raise ApprovalError("approval", "no supervisor is configured to approve "
                                            "(journal.supervisors)")
        now_ms = int(self._clock() * 1000)
        if cred.scanner is not None:
            code = self.scans.take(cred.scanner, now_ms) if self.scans is not None else None
            if code is None:
                raise ApprovalError("approval.scanner", f"no supervisor badge was scanned on "
                                                        f"{cred.scanner!r} in the last minute")
            cred = replace(cred, secret=code)
        async with self._serial:
            return await self._check(cred, action, now_ms)

    async def _check(self, cred: Credential, action: str, now_ms: int) -> Approved:
        claimed = f"{cred.via} for {cred.supervisor or 'any supervisor'} ({action})"
        slots = [GLOBAL] + ([supervisor_slot(cred.supervisor)] if cred.supervisor else [])
        counters = await asyncio.to_thread(self.attempts.counters, slots)
        wait = max(c.remaining_ms(now_ms) for c in counters)
        # A badge held at a scanner was recognised there, so it cannot be a guess: it is the
        # way in that guessing through the API never blocks.
        if wait and cred.scanner is None:
            raise ApprovalRefused("approval", f"too many wrong attempts; try again in "
                                              f"{math.ceil(wait / 1000)} s", "approval.backoff",
                                  f"{claimed} not checked: {_counts(counters, now_ms)}")
        if cred.supervisor is not None and all(s.id != cred.supervisor
                                                for s in self.supervisors):
            counters = await asyncio.to_thread(self.attempts.fail, [GLOBAL], now_ms)
            raise ApprovalRefused("approval.supervisor", f"no supervisor {cred.supervisor!r}",
                                  "approval.failed", f"{claimed}: no such supervisor; "
                                  f"{_counts(counters, now_ms)}")
        approved = await asyncio.to_thread(match, cred, self.supervisors)
        if approved is None:
            counters = await asyncio.to_thread(self.attempts.fail, slots, now_ms)
            raise ApprovalRefused("approval", f"the {cred.via} does not match a supervisor",
                                  "approval.failed", f"{claimed} did not match; "
                                  f"{_counts(counters, now_ms)}")
        await asyncio.to_thread(self.attempts.clear,
                                [GLOBAL, supervisor_slot(approved.approver)])
        return approved

    def close(self) -> None:
        """Close the attempt counters (blocking)."""
        self.attempts.close()


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
