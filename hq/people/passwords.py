"""Password hashes: scrypt (memory-hard) with a per-user salt and its parameters stored beside
the hash as `scrypt$N$r$p$salt$hash` (base64), so parameters can grow without breaking old
hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**15, 8, 1
"""32 MiB and ~0.1 s per hash on a small server: a stolen database costs an attacker as much."""
MAX_N = 2**20
MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def _maxmem(n: int, r: int, p: int) -> int:
    return 128 * r * (n + p + 2) + 1024 * 1024


def hash_password(password: str, salt: bytes | None = None, n: int = N, r: int = R,
                  p: int = P) -> str:
    """The encoded hash of `password` (UTF-8) with a fresh 16-byte salt unless given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                            maxmem=_maxmem(n, r, p), dklen=32)
    return "$".join((SCHEME, str(n), str(r), str(p), base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()))


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the encoded hash; False for any malformed hash."""
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        want = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (2 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                         maxmem=_maxmem(n, r, p), dklen=len(want))
    return hmac.compare_digest(got, want)


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable as a new password, or None."""
    if len(password) < MIN_PASSWORD:
        return f"must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"must be at most {MAX_PASSWORD} characters"
    return None
