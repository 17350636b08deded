"""HQ's CA core: certificates and CRLs from values and `now`, checked with OpenSSL's verifier
semantics through `cryptography` (chain, usage, names) and by byte-level parsing."""

from __future__ import annotations

import base64
import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.pairing.identity import csr_pem
from hq.pki import PkiError
from hq.pki.certificates import (
    Revoked,
    ca_certificate,
    new_key,
    revocation_list,
    server_certificate,
    sign_csr,
)

NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)
CA = ca_certificate(new_key(), "Storelink HQ CA 重庆", NOW, 3650)
BOX_KEY = new_key()


def cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def test_the_ca_signs_certificates_and_crls_only() -> None:
    c = CA.cert
    assert c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ku = c.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign and not ku.digital_signature
    assert cn(c) == "Storelink HQ CA 重庆"
    c.verify_directly_issued_by(c)
    assert c.not_valid_after_utc == NOW + datetime.timedelta(days=3650)


def test_a_box_certificate_takes_only_the_key_from_the_csr() -> None:
    # The CSR asks for another name; HQ gives the box id it adopted, clientAuth only.
    cert = sign_csr(CA, csr_pem(BOX_KEY, "CQ-YB-002-B1"), "CQ-JB-001-B1", 7, NOW, 825)
    cert.verify_directly_issued_by(CA.cert)
    assert cn(cert) == "CQ-JB-001-B1" and cert.serial_number == 7
    assert cert.public_key() == BOX_KEY.public_key()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # Backdated an hour for boxes whose clock lags; never beyond the CA's own life.
    assert cert.not_valid_before_utc == NOW - datetime.timedelta(hours=1)
    long = sign_csr(CA, csr_pem(BOX_KEY, "x"), "CQ-JB-001-B1", 8, NOW, 36_500)
    assert long.not_valid_after_utc == CA.cert.not_valid_after_utc


def test_the_broker_certificate_names_every_host() -> None:
    cert = server_certificate(CA, new_key().public_key(), ["127.0.0.1", "Broker.Example.cn",
                                                           "::1"], 9, NOW, 825)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["broker.example.cn"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"),
                                                       ipaddress.ip_address("::1")]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


@pytest.mark.parametrize(("hosts", "field"), [([], "hosts"), (["门店.example"], "hosts"),
                                              (["a..b"], "hosts"), (["a b"], "hosts")])
def test_bad_broker_names_are_refused(hosts: list[str], field: str) -> None:
    with pytest.raises(PkiError) as e:
        server_certificate(CA, new_key().public_key(), hosts, 1, NOW, 825)
    assert e.value.field == field


def test_bad_requests_name_the_field() -> None:
    good = csr_pem(BOX_KEY, "CQ-JB-001-B1")
    cases: list[tuple[bytes, str, str]] = [
        (b"not a csr", "CQ-JB-001-B1", "csr"),
        (good, "hq-1", "box"),           # HQ's identity: the ACL would let it see every box
        (good, "HQ-2", "box"),
        (good, "门店-1", "box"),
        (good, "CQ/JB/#", "box"),
        (good, "", "box"),
    ]
    for pem, box, field in cases:
        with pytest.raises(PkiError) as e:
            sign_csr(CA, pem, box, 1, NOW, 825)
        assert e.value.field == field, (pem[:20], box)
    with pytest.raises(PkiError) as e:
        sign_csr(CA, good, "CQ-JB-001-B1", 1, NOW, 0)
    assert e.value.field == "days"


def test_a_csr_whose_signature_does_not_hold_is_refused() -> None:
    csr = x509.load_pem_x509_csr(csr_pem(BOX_KEY, "CQ-JB-001-B1"))
    der = csr.public_bytes(serialization.Encoding.DER)
    # Flip one bit inside the subject (CN's last byte): the self-signature no longer matches.
    i = der.index(b"CQ-JB-001-B1") + 11
    forged = der[:i] + bytes([der[i] ^ 1]) + der[i + 1:]
    forged_pem = (b"-----BEGIN CERTIFICATE REQUEST-----\n"
                  + base64.encodebytes(forged)
                  + b"-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(PkiError) as e:
        sign_csr(CA, forged_pem, "CQ-JB-001-B1", 1, NOW, 825)
    assert e.value.field == "csr"


def test_only_p256_keys_are_signed() -> None:
    other = ec.generate_private_key(ec.SECP384R1())
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
           .sign(other, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    with pytest.raises(PkiError, match="P-256"):
        sign_csr(CA, csr, "CQ-JB-001-B1", 1, NOW, 825)
    ed = ed25519.Ed25519PrivateKey.generate()
    csr = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
           .sign(ed, None).public_bytes(serialization.Encoding.PEM))
    with pytest.raises(PkiError, match="P-256"):
        sign_csr(CA, csr, "CQ-JB-001-B1", 1, NOW, 825)


def test_the_crl_lists_the_revoked_and_expires() -> None:
    later = NOW + datetime.timedelta(days=3)
    crl = revocation_list(CA, [Revoked(99, later), Revoked(5, NOW)], later, 30, 12)
    assert crl.is_signature_valid(CA.key.public_key())
    assert [r.serial_number for r in crl] == [5, 99]
    assert crl.get_revoked_certificate_by_serial_number(99) is not None
    assert crl.next_update_utc == later + datetime.timedelta(days=30)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 12


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_as_a_csr_are_refused_as_a_csr(data: bytes) -> None:
    with pytest.raises(PkiError) as e:
        sign_csr(CA, data, "CQ-JB-001-B1", 1, NOW, 825)
    assert e.value.field == "csr"


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z"))
def test_any_valid_box_id_becomes_the_cn(box: str) -> None:
    if box.lower().startswith("hq-"):
        return
    cert = sign_csr(CA, csr_pem(BOX_KEY, "whatever"), box, 3, NOW, 30)
    assert cn(cert) == box
