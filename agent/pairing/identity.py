"""The box's MQTT client key (P-256, 0600 file made on the box) and its CSR for HQ's CA."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.journal.keys import KeyFileError

MQTT_KEY = "keys/mqtt.key"


def load_or_make_mqtt_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """The key at `path`, made (0600, never overwritten) if absent; KeyFileError if the file
    is readable by group or others, or not a P-256 key."""
    if not path.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"{path}: already exists; refusing to overwrite a key") from None
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return key
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(f"{path}: mode {mode:o} lets others read the key; it must be 0600")
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError) as e:
        raise KeyFileError(f"{path}: not a readable PEM key ({e})") from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise KeyFileError(f"{path}: not an EC P-256 key")
    return loaded


def csr_pem(key: ec.EllipticCurvePrivateKey, box_id: str) -> bytes:
    """A PEM certificate signing request for `key` naming the box (HQ decides the CN anyway)."""
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, box_id)]))
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM)
