"""Pairing codes: 8 symbols of a 32-letter alphabet without 0 O 1 I (40 bits), shown as
`XXXX-XXXX`; HQ keeps only their hash. Pure: the random bytes are passed in."""

from __future__ import annotations

import hashlib

from sync.protocol import ProtocolError

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8


def new_code(random: bytes) -> str:
    """The code made of the first 5 bytes of `random` (from `secrets.token_bytes(5)`)."""
    if len(random) < 5:
        raise ValueError("a pairing code needs 5 random bytes")
    n = int.from_bytes(random[:5], "big")
    return "".join(ALPHABET[(n >> (5 * (LENGTH - 1 - i))) & 31] for i in range(LENGTH))


def shown(code: str) -> str:
    """`ABCDEFGH` as printed and displayed: `ABCD-EFGH`."""
    return f"{code[:4]}-{code[4:]}"


def normalize(text: object, field: str = "code") -> str:
    """The code a person typed, case, spaces and dashes ignored; ProtocolError(`field`) unless
    it is 8 symbols of the alphabet."""
    if not isinstance(text, str) or len(text) > 32:
        raise ProtocolError(field, "must be the 8-character pairing code (e.g. 7KQ2-M9XD)")
    code = "".join(c for c in text.upper() if c not in " -\t")
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        raise ProtocolError(field, "must be the 8-character pairing code (e.g. 7KQ2-M9XD)")
    return code


def code_hash(code: str) -> str:
    """What HQ stores and looks a code up by (the code itself is never stored nor logged)."""
    return hashlib.sha256(f"storelink-pairing-v1:{code}".encode()).hexdigest()
