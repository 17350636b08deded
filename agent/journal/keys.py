"""The box's journal signing key: an Ed25519 key in a 0600 PEM file outside the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from agent import AgentError


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
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
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
