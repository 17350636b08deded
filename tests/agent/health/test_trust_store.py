"""The daemon's CA certificates read on demand from the hashed directory (docs/deploy.md, idle
memory): the same trust, without the parsed bundle resident from start-up."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agent.health.trust_store import NO_BUNDLE, on_demand
from tests.agent.conftest import free_port

CERTS = "/etc/ssl/certs"


def test_the_directory_replaces_its_own_bundle() -> None:
    env = {"SSL_CERT_FILE": f"{CERTS}/ca-certificates.crt"}
    assert on_demand(env, "/usr/lib/ssl/cert.pem", CERTS, hashed=True) == {
        "SSL_CERT_FILE": f"{CERTS}/{NO_BUNDLE}", "SSL_CERT_DIR": CERTS}
    assert on_demand({}, f"{CERTS}/ca-certificates.crt", CERTS, hashed=True)["SSL_CERT_DIR"] \
        == CERTS


@pytest.mark.parametrize("env, hashed", [
    ({"SSL_CERT_FILE": "/srv/门店/private-ca.pem"}, True),  # another bundle: kept as asked
    ({"SSL_CERT_DIR": "/srv/certs"}, True),  # the bundle is not that directory's
    ({"SSL_CERT_DIR": f"{CERTS}:/srv/certs"}, True),  # several directories
    ({}, False),  # no hashed links: the bundle is the only way to the certificates
])
def test_anything_else_is_left_as_it_is(env: dict[str, str], hashed: bool) -> None:
    assert on_demand(env, f"{CERTS}/ca-certificates.crt", CERTS, hashed) == {}


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
          signer: ec.EllipticCurvePrivateKey, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    b = (x509.CertificateBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return b.sign(signer, hashes.SHA256())


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A TLS server on 127.0.0.1 whose CA is in a hashed directory with its bundle beside."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl (Debian package openssl) is needed to hash the CA directory")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("江北测试根证书", ca_key, x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "江北测试根证书")]), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert("127.0.0.1", key, ca.subject, ca_key, False)
    certs = tmp_path / "certs"
    certs.mkdir()
    pem = ca.public_bytes(serialization.Encoding.PEM)
    (certs / "jiangbei-ca.pem").write_bytes(pem)
    (certs / "ca-certificates.crt").write_bytes(pem)
    subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True)
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                with ctx.wrap_socket(conn, server_side=True) as s:
                    s.sendall("你好".encode())
            except (OSError, ssl.SSLError):
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield port, certs
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        t.join(10)


CLIENT = """
import json, socket, ssl, sys
from agent.health.trust_store import read_trust_on_demand
changed = read_trust_on_demand()
ctx = ssl.create_default_context()
loaded = ctx.cert_store_stats()["x509_ca"]
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30) as raw:
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        got = s.recv(100).decode()
print(json.dumps({"changed": changed, "loaded_at_start": loaded, "got": got}))
"""


def test_the_same_certificates_verify_when_read_on_demand(
        tls_server: tuple[int, Path]) -> None:
    port, certs = tls_server
    env = {"PATH": "/usr/bin:/bin", "SSL_CERT_FILE": str(certs / "ca-certificates.crt"),
           "SSL_CERT_DIR": str(certs)}
    done = subprocess.run([sys.executable, "-c", CLIENT, str(port)], env=env,
                          cwd=Path(__file__).resolve().parents[3], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == {"changed": True, "loaded_at_start": 0, "got": "你好"}


def test_a_server_of_another_ca_is_still_refused(tls_server: tuple[int, Path],
                                                 tmp_path: Path) -> None:
    port, _ = tls_server
    other = tmp_path / "other"
    other.mkdir()
    env = {"PATH": "/usr/bin:/bin", "SSL_CERT_FILE": str(other / "ca-certificates.crt"),
           "SSL_CERT_DIR": str(other)}
    done = subprocess.run([sys.executable, "-c", CLIENT, str(port)], env=env,
                          cwd=Path(__file__).resolve().parents[3], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in done.stderr


IDLE = """
import builtins, json, sys
from agent import cli
assert "aiohttp" not in sys.modules
real_import = builtins.__import__

def run(config):
    import aiohttp.connector
    print(json.dumps(aiohttp.connector._SSL_CONTEXT_VERIFIED.cert_store_stats()), flush=True)
    return 0

def hooked(name, *args, **kwargs):
    module = real_import(name, *args, **kwargs)
    daemon = sys.modules.get("agent.daemon")
    if daemon is not None:
        daemon.run = run
    return module

builtins.__import__ = hooked
sys.exit(cli.main(["agent", "run", "--config", sys.argv[1]]))
"""


def test_the_daemon_holds_no_parsed_ca_bundle(tmp_path: Path) -> None:
    if not any(p.suffix == ".0" for p in Path(CERTS).glob("*.0")):
        pytest.fail(f"{CERTS} has no hashed links (Debian package ca-certificates)")
    cfg = tmp_path / "box.toml"
    cfg.write_text(f"""
[box]
id = "CQ-JB-001-B1"
name = "江北店前台"
state_dir = "{tmp_path}/state"
[api]
port = {free_port()}
""", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", IDLE, str(cfg)], capture_output=True,
                          text=True, timeout=120, check=False,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr[-3000:]
    stats = json.loads(done.stdout.splitlines()[-1])
    assert stats["x509_ca"] == 0
