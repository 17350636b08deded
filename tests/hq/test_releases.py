"""`storelink hq release`: the `upgrade` command body for a bundle, signed with HQ's key so a
box's check passes — and a box given another bundle's bytes or version refuses it."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol.releases import digest, verify_release


def make_bundle(path: Path, version: str) -> bytes:
    """A .tar.gz with storelink-<version>/VERSION (all this command reads)."""
    with tarfile.open(path, "w:gz") as tar:
        data = f"{version}\n".encode()
        info = tarfile.TarInfo(f"storelink-{version}/VERSION")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path.read_bytes()


def storelink(*args: str) -> subprocess.CompletedProcess[str]:
    """This checkout's `storelink` command."""
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_release_body_is_signed_by_hq(tmp_path: Path) -> None:
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\nkey_file = "{tmp_path / "hq.key"}"\ndb = "{tmp_path / "hq.db"}"\n',
                      encoding="utf-8")
    data = make_bundle(tmp_path / "b.tar.gz", "0.2.0")
    r = storelink("hq", "release", "--config", str(config), "--bundle",
                  str(tmp_path / "b.tar.gz"), "--url", "http://hq.example.cn/r/0.2.0.tar.gz")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    args = body["args"]
    assert body["name"] == "upgrade"
    assert (args["version"], args["sha256"]) == ("0.2.0", digest(data))
    pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(
        storelink("hq", "pubkey", "--config", str(config)).stdout.strip()))
    assert verify_release("0.2.0", digest(data), args["sig"], pub)
    assert not verify_release("0.2.1", digest(data), args["sig"], pub)
    assert not verify_release("0.2.0", digest(data + b"x"), args["sig"], pub)


def test_release_refuses_a_bad_url_or_bundle(tmp_path: Path) -> None:
    config = tmp_path / "hq.toml"
    config.write_text(f'[hq]\nkey_file = "{tmp_path / "hq.key"}"\ndb = "{tmp_path / "hq.db"}"\n',
                      encoding="utf-8")
    make_bundle(tmp_path / "b.tar.gz", "0.2.0")
    bad_url = storelink("hq", "release", "--config", str(config), "--bundle",
                        str(tmp_path / "b.tar.gz"), "--url", "file:///etc/passwd")
    assert (bad_url.returncode, bad_url.stderr.split(":")[0]) == (2, "url")
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    junk = storelink("hq", "release", "--config", str(config), "--bundle",
                     str(tmp_path / "junk.tar.gz"), "--url", "http://hq/r.tar.gz")
    assert (junk.returncode, junk.stderr.split(":")[0]) == (2, "bundle")
