"""Thin shell of HQ's CA: its directory (keys 0600), the register of issued certificates, the CRL.

Layout of DIR: `ca.key` `ca.crt` `crl.pem` `issued.json`, `broker.key` `broker.crt`, and
`clients/ID.key` `clients/ID.crt` for certificates whose key HQ made (its own workers).
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hq.pki import PkiError
from hq.pki.certificates import (
    Authority,
    Revoked,
    ca_certificate,
    client_certificate,
    new_key,
    revocation_list,
    server_certificate,
    sign_csr,
)

CRL_DAYS = 30


@dataclass(frozen=True)
class IssuedCert:
    """One line of the register: what was issued to whom, and whether it is revoked."""

    serial: str
    """Hex, as `openssl x509 -serial` and the broker's log show it."""
    identity: str
    kind: str
    """`server`, `client` (HQ made the key) or `box` (signed from the box's CSR)."""
    not_after: str
    revoked_at: str | None = None


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` as a new 0600 file, atomically (never readable by others)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    """Write `data` to `path` (0644), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o644)
    os.replace(tmp, path)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the file mode protects it)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert: x509.Certificate) -> bytes:
    """The certificate as PEM."""
    return cert.public_bytes(serialization.Encoding.PEM)


class CaDir:
    """HQ's CA in directory `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key_file = root / "ca.key"
        self.cert_file = root / "ca.crt"
        self.crl_file = root / "crl.pem"
        self.register_file = root / "issued.json"

    def init(self, name: str, now: datetime.datetime, days: int) -> Authority:
        """Make the CA and an empty CRL; PkiError if `root` already holds one."""
        if self.key_file.exists():
            raise PkiError("dir", f"{self.root} already holds a CA (ca.key)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        ca = ca_certificate(new_key(), name, now, days)
        write_private(self.key_file, key_pem(ca.key))
        write_public(self.cert_file, cert_pem(ca.cert))
        self._save([])
        self.publish_crl(now)
        return ca

    def load(self) -> Authority:
        """The CA; PkiError if missing, unreadable or group/world-readable."""
        if not self.key_file.exists():
            raise PkiError("dir", f"no CA in {self.root}: run `storelink hq pki init` first")
        if self.key_file.stat().st_mode & 0o077:
            raise PkiError("dir", f"{self.key_file} is readable by others: chmod 600 it")
        try:
            key = serialization.load_pem_private_key(self.key_file.read_bytes(), None)
            cert = x509.load_pem_x509_certificate(self.cert_file.read_bytes())
        except (OSError, ValueError) as e:
            raise PkiError("dir", f"cannot read the CA: {e}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError("dir", "ca.key is not an EC key")
        return Authority(key, cert)

    def issued(self) -> list[IssuedCert]:
        """The register, oldest first."""
        if not self.register_file.exists():
            return []
        raw: list[dict[str, Any]] = json.loads(self.register_file.read_text(encoding="utf-8"))
        return [IssuedCert(**r) for r in raw]

    def _save(self, issued: Sequence[IssuedCert]) -> None:
        write_public(self.register_file, json.dumps(
            [asdict(i) for i in issued], ensure_ascii=False, indent=1).encode())

    def _record(self, cert: x509.Certificate, identity: str, kind: str) -> None:
        self._save([*self.issued(), IssuedCert(
            f"{cert.serial_number:x}", identity, kind, cert.not_valid_after_utc.isoformat())])

    def issue_server(self, hosts: Sequence[str], now: datetime.datetime, days: int
                     ) -> tuple[Path, Path]:
        """Make the broker's key and certificate for `hosts`; (cert file, key file)."""
        ca = self.load()
        key = new_key()
        cert = server_certificate(ca, key.public_key(), hosts, x509.random_serial_number(),
                                  now, days)
        out = (self.root / "broker.crt", self.root / "broker.key")
        write_private(out[1], key_pem(key))
        write_public(out[0], cert_pem(cert))
        self._record(cert, hosts[0], "server")
        return out

    def issue_client(self, identity: str, now: datetime.datetime, days: int) -> tuple[Path, Path]:
        """Make a key and clientAuth certificate for `identity` (an HQ worker `hq-N`)."""
        ca = self.load()
        key = new_key()
        cert = client_certificate(ca, key.public_key(), identity, x509.random_serial_number(),
                                  now, days)
        folder = self.root / "clients"
        folder.mkdir(mode=0o700, exist_ok=True)
        out = (folder / f"{identity}.crt", folder / f"{identity}.key")
        write_private(out[1], key_pem(key))
        write_public(out[0], cert_pem(cert))
        self._record(cert, identity, "client")
        return out

    def sign(self, csr_pem: bytes, box_id: str, now: datetime.datetime, days: int) -> bytes:
        """A box's certificate (PEM) for the key in its CSR, recorded in the register."""
        cert = sign_csr(self.load(), csr_pem, box_id, x509.random_serial_number(), now, days)
        self._record(cert, box_id, "box")
        return cert_pem(cert)

    def revoke(self, now: datetime.datetime, *, identity: str | None = None,
               serial: str | None = None) -> list[IssuedCert]:
        """Revoke every live certificate of `identity`, or the one `serial`; rewrite the CRL.

        Returns what was revoked; PkiError if nothing matched.
        """
        issued = self.issued()
        hit: list[IssuedCert] = []
        out: list[IssuedCert] = []
        want = None if serial is None else serial.lower().removeprefix("0x").lstrip("0")
        for i in issued:
            match = (i.identity == identity if identity is not None
                     else i.serial.lstrip("0") == want)
            if match and i.revoked_at is None:
                gone = IssuedCert(i.serial, i.identity, i.kind, i.not_after, now.isoformat())
                hit.append(gone)
                out.append(gone)
            else:
                out.append(i)
        if not hit:
            raise PkiError("box" if identity is not None else "serial",
                           "no live certificate matches")
        self._save(out)
        self.publish_crl(now)
        return hit

    def publish_crl(self, now: datetime.datetime, days: int = CRL_DAYS) -> Path:
        """Rewrite `crl.pem` from the register, valid `days`; mosquitto reads it on SIGHUP."""
        ca = self.load()
        revoked = [Revoked(int(i.serial, 16), datetime.datetime.fromisoformat(i.revoked_at))
                   for i in self.issued() if i.revoked_at is not None]
        number = int(now.timestamp())
        write_public(self.crl_file, revocation_list(ca, revoked, now, days, number).public_bytes(
            serialization.Encoding.PEM))
        return self.crl_file
