"""HQ's CA directory and `storelink hq pki …` as an operator runs them: files, modes, the
register, revocation into crl.pem, and refusals naming the field."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509

from agent.journal.keys import KeyFileError
from agent.pairing.identity import csr_pem, load_or_make_mqtt_key
from hq.pki import PkiError
from hq.pki.ca_dir import CaDir
from tests.e2e.broker import env_with_root

NOW = datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.UTC)


def storelink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True,
                          env=env_with_root(), timeout=120, check=False)


def mode(p: Path) -> int:
    return p.stat().st_mode & 0o777


def test_keys_are_0600_and_a_ca_is_made_once(tmp_path: Path) -> None:
    ca = CaDir(tmp_path / "ca")
    ca.init("Storelink HQ CA", NOW, 3650)
    _, key = ca.issue_server(["127.0.0.1"], NOW, 825)
    _, ckey = ca.issue_client("hq-1", NOW, 825)
    assert [mode(p) for p in (ca.key_file, key, ckey)] == [0o600] * 3
    assert mode(ca.root) == 0o700
    assert [i.kind for i in ca.issued()] == ["server", "client"]
    with pytest.raises(PkiError) as e:
        ca.init("again", NOW, 3650)
    assert e.value.field == "dir"
    ca.key_file.chmod(0o640)
    with pytest.raises(PkiError, match="chmod 600"):
        ca.sign(b"", "CQ-JB-001-B1", NOW, 825)


def test_revoking_a_box_rewrites_the_crl(tmp_path: Path) -> None:
    ca = CaDir(tmp_path / "ca")
    ca.init("Storelink HQ CA", NOW, 3650)
    key = load_or_make_mqtt_key(tmp_path / "box" / "keys" / "mqtt.key")
    first = x509.load_pem_x509_certificate(ca.sign(csr_pem(key, "b"), "CQ-JB-001-B1", NOW, 825))
    again = x509.load_pem_x509_certificate(ca.sign(csr_pem(key, "b"), "CQ-JB-001-B1", NOW, 825))
    other = x509.load_pem_x509_certificate(ca.sign(csr_pem(key, "b"), "CQ-YB-002-B1", NOW, 825))
    empty = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    assert empty.get_revoked_certificate_by_serial_number(first.serial_number) is None
    later = NOW + datetime.timedelta(days=2)
    gone = ca.revoke(later, identity="CQ-JB-001-B1")
    assert {g.serial for g in gone} == {f"{first.serial_number:x}", f"{again.serial_number:x}"}
    crl = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    assert crl.is_signature_valid(ca.load().key.public_key())
    assert {r.serial_number for r in crl} == {first.serial_number, again.serial_number}
    assert crl.next_update_utc == later + datetime.timedelta(days=30)
    with pytest.raises(PkiError) as e:  # nothing live left to revoke
        ca.revoke(later, identity="CQ-JB-001-B1")
    assert e.value.field == "box"
    ca.revoke(later, serial=f"0x{other.serial_number:X}")
    assert len(list(x509.load_pem_x509_crl(ca.crl_file.read_bytes()))) == 3


def test_the_box_key_is_made_once_and_must_stay_private(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "mqtt.key"
    key = load_or_make_mqtt_key(path)
    assert mode(path) == 0o600
    assert load_or_make_mqtt_key(path).private_numbers() == key.private_numbers()
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="0600"):
        load_or_make_mqtt_key(path)


def test_the_commands_as_documented(tmp_path: Path) -> None:
    d = str(tmp_path / "ca")
    assert storelink("hq", "pki", "init", "--dir", d).returncode == 0
    done = storelink("hq", "pki", "server", "--dir", d, "--host", "127.0.0.1",
                     "--host", "mqtt.example.cn")
    assert done.returncode == 0 and "broker.crt" in done.stdout
    box = tmp_path / "box.toml"
    box.write_text(f'[box]\nid = "CQ-JB-001-B1"\nstore = "CQ-JB-001"\n'
                   f'name = "重庆江北建材旗舰店"\nstate_dir = "{tmp_path / "box"}"\n',
                   encoding="utf-8")
    csr = storelink("pairing", "csr", "--config", str(box))
    assert csr.returncode == 0, csr.stderr
    assert mode(tmp_path / "box" / "keys" / "mqtt.key") == 0o600
    (tmp_path / "box.csr").write_text(csr.stdout)
    signed = storelink("hq", "pki", "sign", "--dir", d, "--box", "CQ-JB-001-B1",
                       str(tmp_path / "box.csr"))
    assert signed.returncode == 0, signed.stderr
    cert = x509.load_pem_x509_certificate(signed.stdout.encode())
    assert "CQ-JB-001-B1" in cert.subject.rfc4514_string()
    refused = storelink("hq", "pki", "sign", "--dir", d, "--box", "hq-1", str(tmp_path / "box.csr"))
    assert refused.returncode == 2 and "error: box:" in refused.stderr
    assert storelink("hq", "pki", "revoke", "--dir", d, "--box", "CQ-JB-001-B1").returncode == 0
    listed = [json.loads(line) for line in storelink("hq", "pki", "list", "--dir", d)
              .stdout.splitlines()]
    assert [(i["kind"], i["revoked_at"] is not None) for i in listed] == [("server", False),
                                                                         ("box", True)]
    # No key material on any output.
    assert "PRIVATE KEY" not in csr.stdout + csr.stderr + signed.stdout + signed.stderr
