"""The journal key file: made once with mode 0600, refused when others may read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.keys import (
    KeyFileError,
    discard_next,
    install_next,
    load_key,
    load_or_create,
    next_path,
    write_key,
)
from sync.journal.record import public_bytes


def test_first_start_makes_a_0600_key_and_later_starts_reuse_it(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "journal.key"
    key, created = load_or_create(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again, created = load_or_create(path)
    assert not created and public_bytes(again) == public_bytes(key)


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "journal.key"
    write_key(path, Ed25519PrivateKey.generate())
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        write_key(path, Ed25519PrivateKey.generate())


def test_keys_others_may_read_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.key"
    write_key(path, Ed25519PrivateKey.generate())
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0600"):
        load_key(path)


@pytest.mark.parametrize("content", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAA==\n"])
def test_broken_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "journal.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError):
        load_key(path)
    with pytest.raises(KeyFileError, match="no journal key"):
        load_key(tmp_path / "missing.key")


def test_a_waiting_rotation_key_is_installed_or_discarded(tmp_path: Path) -> None:
    path = tmp_path / "journal.key"
    write_key(path, Ed25519PrivateKey.generate())
    new = Ed25519PrivateKey.generate()
    write_key(next_path(path), new)
    install_next(path)
    assert public_bytes(load_key(path)) == public_bytes(new)
    assert not next_path(path).exists()
    write_key(next_path(path), Ed25519PrivateKey.generate())
    discard_next(path)
    assert not next_path(path).exists()
    assert public_bytes(load_key(path)) == public_bytes(new)
