"""The journal key's PEM form, written and read without cryptography's serialization package,
checked byte for byte against it (and OpenSSL's own file)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)
from hypothesis import given
from hypothesis import strategies as st

from agent.journal.keys import KeyFileError, key_pem, load_key, pem_key

# RFC 8410 §10.3: the example private key.
RFC8410_PEM = (b"-----BEGIN PRIVATE KEY-----\n"
               b"MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
               b"-----END PRIVATE KEY-----\n")
RFC8410_SEED = bytes.fromhex("d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842")


def test_the_rfc_8410_example_reads_and_writes_back_byte_for_byte() -> None:
    key = pem_key(RFC8410_PEM)
    assert key is not None and key.private_bytes_raw() == RFC8410_SEED
    assert key_pem(key) == RFC8410_PEM


@given(st.binary(min_size=32, max_size=32))
def test_our_pem_is_cryptographys_pkcs8_pem(seed: bytes) -> None:
    key = Ed25519PrivateKey.from_private_bytes(seed)
    ref = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    assert key_pem(key) == ref
    back = pem_key(ref)
    assert back is not None and back.private_bytes_raw() == seed


def test_an_openssl_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "box.key"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)],
                   check=True)
    path.chmod(0o600)
    assert isinstance(load_key(path), Ed25519PrivateKey)


def test_other_keys_and_damaged_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "box.key"
    other = X25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                      NoEncryption())
    assert pem_key(other) is None
    for data, reason in ((other, "not an Ed25519 key"),
                         (RFC8410_PEM.replace(b"MC4C", b"!!!!"), "not a PEM private key"),
                         ("密钥".encode(), "not a PEM private key")):
        path.unlink(missing_ok=True)
        path.write_bytes(data)
        path.chmod(0o600)
        try:
            load_key(path)
        except KeyFileError as e:
            assert reason in str(e)
        else:
            raise AssertionError(f"{data!r} was accepted")
