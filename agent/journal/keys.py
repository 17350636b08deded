"""The box's journal signing key: an Ed25519 key in a 0600 PEM file outside the database."""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent import AgentError

# An unencrypted Ed25519 PKCS#8 key (RFC 8410) is this DER prefix and the 32-byte seed. Written
# and read here without cryptography's serialization package, which the daemon would otherwise
# load at start only for this (docs/deploy.md, idle memory); other PEM keys fall back to it.
PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")
PEM_BEGIN, PEM_END = b"-----BEGIN PRIVATE KEY-----", b"-----END PRIVATE KEY-----"


def key_pem(key: Ed25519PrivateKey) -> bytes:
    """`key` as an unencrypted PKCS#8 PEM file (what `openssl genpkey -algorithm ed25519`
    writes)."""
    b64 = base64.b64encode(PKCS8_ED25519 + key.private_bytes_raw())
    return PEM_BEGIN + b"\n" + b64 + b"\n" + PEM_END + b"\n"


def pem_key(data: bytes) -> Ed25519PrivateKey | None:
    """The Ed25519 key of an unencrypted PKCS#8 PEM file; None if `data` is another kind."""
    text = data.strip()
    if not (text.startswith(PEM_BEGIN) and text.endswith(PEM_END)):
        return None
    try:
        der = base64.b64decode(b"".join(text[len(PEM_BEGIN):-len(PEM_END)].split()),
                               validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(der) != 48 or not der.startswith(PKCS8_ED25519):
        return None
    return Ed25519PrivateKey.from_private_bytes(der[16:])


class KeyFileError(AgentError):
    """The key file is missing, unreadable, too open, or not an Ed25519 key."""


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Create `path` (mode 0600, never overwriting) holding `key`, durably."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key_pem(key)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path}: already exists; refusing to overwrite a key") from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have narrowed it further, never widened
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)


def load_key(path: Path) -> Ed25519PrivateKey:
    """Read the key at `path`; refuse a file that group or others may read or write."""
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: no journal key") from None
    except OSError as e:
        raise KeyFileError(f"{path}: {e.strerror}") from None
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise KeyFileError(f"{path}: mode {stat.S_IMODE(st.st_mode):o} lets others read the key; "
                           "it must be 0600")
    ours = pem_key(data)
    if ours is not None:
        return ours
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(data, password=None)
    except ValueError:
        raise KeyFileError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key


def load_or_create(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key at `path`, generated first if there is none; True if it was just made."""
    if path.exists():
        return load_key(path), False
    key = Ed25519PrivateKey.generate()
    write_key(path, key)
    return key, True


def next_path(path: Path) -> Path:
    """Where a rotation's new key waits until the key_rotate record is committed."""
    return path.with_name(path.name + ".next")


def install_next(path: Path) -> None:
    """Make the waiting new key the key (atomic rename, durable)."""
    os.replace(next_path(path), path)
    _fsync_dir(path.parent)


def discard_next(path: Path) -> None:
    """Remove a waiting new key whose rotation was never committed."""
    next_path(path).unlink(missing_ok=True)
