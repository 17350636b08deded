"""Pure core of HQ's CA: certificates and CRLs built from keys, values and `now`."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hq.pki import PkiError
from sync.protocol.topics import BOX_ID

# Clocks of boxes that just booted may lag a little behind HQ's.
BACKDATE = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
ORG = "Storelink"


@dataclass(frozen=True)
class Authority:
    """The CA's key and self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


@dataclass(frozen=True)
class Revoked:
    """One revoked certificate: its serial and when it was revoked."""

    serial: int
    at: datetime.datetime


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key (mosquitto and every TLS stack of the boxes speak it)."""
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _check_days(days: int) -> None:
    if not 1 <= days <= 36_500:
        raise PkiError("days", "must be 1-36500")


def ca_certificate(key: ec.EllipticCurvePrivateKey, name: str, now: datetime.datetime,
                   days: int) -> Authority:
    """A self-signed CA named `name`, valid `days` from `now`, that signs leaves and CRLs only."""
    _check_days(days)
    if not name.strip():
        raise PkiError("name", "must not be empty")
    subject = _name(name)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), True)
            .add_extension(ski, False)
            .sign(key, hashes.SHA256()))
    return Authority(key, cert)


def _leaf(ca: Authority, public_key: ec.EllipticCurvePublicKey, cn: str, serial: int,
          now: datetime.datetime, days: int, usage: x509.ObjectIdentifier
          ) -> x509.CertificateBuilder:
    _check_days(days)
    not_after = min(now + days * DAY, ca.cert.not_valid_after_utc)
    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(ca.cert.subject)
            .public_key(public_key).serial_number(serial)
            .not_valid_before(now - BACKDATE).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=True, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), True)
            .add_extension(x509.ExtendedKeyUsage([usage]), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), False))


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if not host or any(not label or len(label) > 63 or not all(
            c.isascii() and (c.isalnum() or c == "-") for c in label) for label in labels):
        raise PkiError("hosts", f"not an IP address or DNS name: {host!r}")
    return x509.DNSName(host.rstrip(".").lower())


def server_certificate(ca: Authority, public_key: ec.EllipticCurvePublicKey, hosts: Sequence[str],
                       serial: int, now: datetime.datetime, days: int) -> x509.Certificate:
    """The broker's certificate (serverAuth) for every name and address in `hosts` (SANs)."""
    if not hosts:
        raise PkiError("hosts", "at least one DNS name or IP address the boxes dial")
    sans = [_san(h) for h in hosts]
    return (_leaf(ca, public_key, hosts[0], serial, now, days, ExtendedKeyUsageOID.SERVER_AUTH)
            .add_extension(x509.SubjectAlternativeName(sans), False)
            .sign(ca.key, hashes.SHA256()))


def client_certificate(ca: Authority, public_key: ec.EllipticCurvePublicKey, identity: str,
                       serial: int, now: datetime.datetime, days: int) -> x509.Certificate:
    """A clientAuth certificate whose CN is the MQTT identity (box id or `hq-N`)."""
    if not BOX_ID.fullmatch(identity):
        raise PkiError("box", "must be 1-64 characters of A-Z a-z 0-9 _ -, starting with a "
                              "letter or digit")
    return (_leaf(ca, public_key, identity, serial, now, days, ExtendedKeyUsageOID.CLIENT_AUTH)
            .sign(ca.key, hashes.SHA256()))


def csr_public_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """The P-256 key of a PEM CSR whose self-signature holds; PkiError(`csr`) otherwise."""
    try:
        csr = x509.load_pem_x509_csr(pem)
    except ValueError:
        raise PkiError("csr", "not a PEM certificate signing request") from None
    try:
        ok = csr.is_signature_valid
    except (InvalidSignature, ValueError):
        ok = False
    key = csr.public_key()
    if not ok:
        raise PkiError("csr", "its signature does not match its key")
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise PkiError("csr", "the key must be EC P-256")
    return key


def sign_csr(ca: Authority, pem: bytes, box_id: str, serial: int, now: datetime.datetime,
             days: int) -> x509.Certificate:
    """A box's clientAuth certificate (CN = `box_id`) for the key of CSR `pem`.

    Only the key is taken from the CSR: its subject and extensions are ignored, so a box cannot
    ask for another identity or for serverAuth. `hq-…` names are HQ workers' (the broker's ACL
    lets them see every box), never a box's.
    """
    if box_id.lower().startswith("hq-"):
        raise PkiError("box", "hq-… identities belong to HQ workers, not boxes")
    return client_certificate(ca, csr_public_key(pem), box_id, serial, now, days)


def revocation_list(ca: Authority, revoked: Sequence[Revoked], now: datetime.datetime,
                    days: int, number: int) -> x509.CertificateRevocationList:
    """The CRL mosquitto reads (`crlfile`): valid `days` from `now`, CRL number `number`."""
    _check_days(days)
    b = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
         .last_update(now - BACKDATE).next_update(now + days * DAY)
         .add_extension(x509.CRLNumber(number), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             ca.key.public_key()), False))
    for r in sorted(revoked, key=lambda r: r.serial):
        b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(r.serial)
                                      .revocation_date(r.at).build())
    return b.sign(ca.key, hashes.SHA256())
