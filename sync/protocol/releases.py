"""Release bundles HQ offers for the `upgrade` command: HQ's Ed25519 signature over the
version and the bundle's SHA-256 (docs/protocol.md §Commands, `upgrade`), pure."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.protocol import fields as f

DOMAIN = b"storelink/v1/release\n"
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def signing_bytes(version: str, sha256: str) -> bytes:
    """DOMAIN ‖ canonical JSON of {"sha256", "version"}: what a release signature covers."""
    return DOMAIN + f.dumps({"sha256": sha256, "version": version})


def sign_release(version: str, sha256: str, key: Ed25519PrivateKey) -> str:
    """HQ's signature of release `version` whose bundle has digest `sha256`, base64."""
    return base64.b64encode(key.sign(signing_bytes(version, sha256))).decode()


def verify_release(version: str, sha256: str, sig: str, key: Ed25519PublicKey) -> bool:
    """True if `sig` (base64) is HQ's signature of exactly this version and digest."""
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, signing_bytes(version, sha256))
    except InvalidSignature:
        return False
    return True


def digest(data: bytes) -> str:
    """The lowercase hex SHA-256 of a bundle."""
    return hashlib.sha256(data).hexdigest()
