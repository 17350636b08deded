"""`storelink hq pubkey --verifier` prints HQ's C2SP verifier key (docs/journal.md §10), and that
key is what `storelink journal verify --hq-pubkey` needs to check HQ's cosign records."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from hq.config import BoxEntry
from hq.ingest.journal import JournalIngest
from hq.store.sqlite import SqliteStore
from sync.journal.chain import cosign_body
from sync.journal.checkpoint import parse_note
from sync.journal.record import public_bytes
from tests.hq.journals import BOX, BOX_KEY, HQ_KEY, T0, batch, chain, hq_toml


def storelink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_printed_verifier_key_checks_hqs_cosign_records(tmp_path: Path) -> None:
    config = hq_toml(tmp_path)
    p = storelink("hq", "pubkey", "--config", str(config), "--verifier")
    assert p.returncode == 0, p.stderr
    printed = p.stdout.strip()
    # From the spec alone: name + hex(SHA-256(name ‖ LF ‖ 0x04 ‖ key)[:4]) + base64(0x04 ‖ key)
    pub = public_bytes(HQ_KEY)
    key_hash = hashlib.sha256(b"storelink-hq\n\x04" + pub).digest()[:4].hex()
    assert printed == f"storelink-hq+{key_hash}+" + base64.b64encode(b"\x04" + pub).decode()
    assert storelink("hq", "pubkey", "--config", str(config)).stdout.strip() == (
        base64.b64encode(pub).decode())  # without --verifier: the raw key, as before

    c = chain(6)
    ingest = JournalIngest(SqliteStore(tmp_path / "hq2.db"), {BOX: BoxEntry(BOX, (
        public_bytes(BOX_KEY),))}, HQ_KEY, "storelink-hq", clock=lambda: T0 + 10**6)
    ack = ingest.ingest(batch(c, 0, 7)).ack
    assert ack.status == "ok" and ack.cosignature is not None
    c.append("cosign", cosign_body(parse_note(str(ack.cosignature["note"])), "storelink-hq"),
             T0 + 10**6)
    export = tmp_path / "journal.jsonl"
    export.write_text("".join(e.export_line() for e in c.entries), encoding="utf-8")
    p = storelink("journal", "verify", str(export), "--hq-pubkey", printed)
    assert p.returncode == 0 and "note: cosign records were not checked" not in p.stdout, p
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "hq.key").write_bytes(Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (tmp_path / "x" / "hq.key").chmod(0o600)
    other = storelink("hq", "pubkey", "--config", str(hq_toml(tmp_path / "x")), "--verifier")
    p = storelink("journal", "verify", str(export), "--hq-pubkey", other.stdout.strip())
    assert p.stdout.startswith("invalid: seq 7: cosign"), p.stdout
