"""A test PKI made with `cryptography`: a CA, a broker certificate for 127.0.0.1, client
certificates whose CN is the MQTT identity, and a CRL revoking some of them."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key as PEM files."""

    cert: Path
    key: Path
    serial: int


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Storelink test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class TestCA:
    """A CA under `root` that issues certificates and CRLs."""

    __test__ = False  # not a pytest class

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.now = datetime.datetime.now(datetime.UTC)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = _name("Storelink test CA")
        self.cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(self.now - DAY).not_valid_after(self.now + 30 * DAY)
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                     .add_extension(x509.KeyUsage(False, False, False, False, False, True, True,
                                                  False, False), True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                         self.key.public_key()), False)
                     .sign(self.key, hashes.SHA256()))
        self.cert_file = root / "ca.crt"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, cn: str, *, server: bool = False) -> Issued:
        """A certificate for `cn` (a broker's for 127.0.0.1 and localhost when `server`)."""
        key = ec.generate_private_key(ec.SECP256R1())
        serial = x509.random_serial_number()
        b = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
             .public_key(key.public_key()).serial_number(serial)
             .not_valid_before(self.now - DAY).not_valid_after(self.now + 30 * DAY)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 self.key.public_key()), False)
             .add_extension(x509.ExtendedKeyUsage(
                 [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                 False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                False)
        cert = b.sign(self.key, hashes.SHA256())
        out = Issued(self.root / f"{cn}.crt", self.root / f"{cn}.key", serial)
        out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        out.key.write_bytes(_key_pem(key))
        out.key.chmod(0o600)
        return out

    def crl(self, revoked: list[Issued], path: Path | None = None) -> Path:
        """A CRL (valid for a day) revoking `revoked`; its PEM file."""
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
             .last_update(self.now - DAY).next_update(self.now + DAY))
        for r in revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder()
                                          .serial_number(r.serial)
                                          .revocation_date(self.now - DAY).build())
        crl = b.sign(self.key, hashes.SHA256())
        path = path or self.root / "crl.pem"
        path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        return path
