"""Several HQ workers on one store for tests and benchmarks: each worker's config, and the
simulated boxes' link to the test broker with HQ's test key."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from agent.fleet_sim.sim_box import Wiring
from sync.journal.checkpoint import ALG_COSIGNATURE_V1, note_key_hash
from sync.journal.record import public_bytes
from tests.hq.journals import HQ_KEY


def wiring(port: int) -> Wiring:
    """The simulated boxes' link: the test broker and HQ's test key."""
    pub = HQ_KEY.public_key()
    kh = note_key_hash("storelink-hq", ALG_COSIGNATURE_V1, public_bytes(HQ_KEY))
    return Wiring("127.0.0.1", port, {("storelink-hq", kh.hex()): pub}, keepalive_s=5,
                  resend_after_ms=4_000)


def worker_toml(tmp: Path, worker: str, port: int, db: str, boxes: str) -> Path:
    """One worker's config: its own id (MQTT client id) and API port, the shared store, key
    and shared-subscription group; `boxes` the `[[boxes]]` tables."""
    tmp.mkdir(parents=True, exist_ok=True)
    key = tmp / "hq.key"
    if not key.exists():
        key.write_bytes(HQ_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        key.chmod(0o600)
    p = tmp / f"{worker}.toml"
    p.write_text(f"""
[hq]
id = "{worker}"
key_file = "{key}"
db = "{db}"

[mqtt]
host = "127.0.0.1"
port = {port}
keepalive_s = 5
share_group = "hq"

[api]
listen = "127.0.0.1"
port = 0
{boxes}""", encoding="utf-8")
    return p
