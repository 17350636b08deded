"""The `[sync]` table of the box configuration: how the box reaches HQ's MQTT broker."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.journal.checkpoint import ALG_COSIGNATURE_V1, note_key_hash
from sync.journal.record import public_bytes
from sync.journal.rules import Cosigners
from sync.protocol import ProtocolError
from sync.protocol.commands import public_key_from_b64

NOTE_NAME = re.compile(r"^[!-*,-~]{1,128}$")
KEYS = {"host", "port", "tls_ca", "tls_cert", "tls_key", "username", "password", "keepalive_s",
        "session_expiry_s", "telemetry_interval_s", "hq_pubkey", "hq_cosigner", "batch_records"}


@dataclass(frozen=True)
class SyncConfig:
    """Broker, credentials, session and timing of the box's link to HQ."""

    host: str
    hq_pubkey: Ed25519PublicKey
    port: int = 8883
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 20
    session_expiry_s: int = 7 * 86_400
    telemetry_interval_s: int = 30
    hq_cosigner: str = "storelink-hq"
    batch_records: int = 500

    def cosigners(self) -> Cosigners:
        """HQ's key as the journal store's `cosigners` (the cosign records it accepts)."""
        kh = note_key_hash(self.hq_cosigner, ALG_COSIGNATURE_V1, public_bytes(self.hq_pubkey))
        return {(self.hq_cosigner, kh.hex()): self.hq_pubkey}


def parse_sync_table(raw: Mapping[str, object], errors: list[str]) -> SyncConfig | None:
    """Validate a `[sync]` table; append `sync.key: reason` to `errors` for every problem.

    An empty or absent table means the box works alone (None). Port 1883 without TLS is
    allowed for a broker on the same machine or network; the example uses 8883 with TLS.
    """
    if not raw:
        return None
    n_before = len(errors)
    errors.extend(f"sync.{k}: unknown key" for k in raw if k not in KEYS)

    def string(key: str, required: bool = False) -> str | None:
        v = raw.get(key)
        if v is None:
            if required:
                errors.append(f"sync.{key}: is required")
            return None
        if not isinstance(v, str) or (required and not v):
            errors.append(f"sync.{key}: must be a non-empty string")
            return None
        return v

    def integer(key: str, default: int, lo: int, hi: int, why: str = "") -> int:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            errors.append(f"sync.{key}: must be an integer {lo}-{hi}{why}")
            return default
        return v

    host = string("host", required=True)
    port = integer("port", 8883, 1, 65535)
    tls = {k: string(k) for k in ("tls_ca", "tls_cert", "tls_key")}
    if (tls["tls_cert"] is None) != (tls["tls_key"] is None):
        errors.append("sync.tls_key: tls_cert and tls_key go together")
    username, password = string("username"), string("password")
    if password is not None and username is None:
        errors.append("sync.username: is required with a password")
    keepalive = integer("keepalive_s", 20, 5, 40, " (HQ must hear of a dead link within "
                        "about 100 s: the broker's Will comes up to 2.5 × keep-alive + 1 s)")
    expiry = integer("session_expiry_s", 7 * 86_400, 60, 90 * 86_400)
    telemetry = integer("telemetry_interval_s", 30, 1, 3600)
    batch = integer("batch_records", 500, 1, 2000)
    cosigner = string("hq_cosigner") or "storelink-hq"
    if not NOTE_NAME.match(cosigner):
        errors.append("sync.hq_cosigner: a note key name (printable ASCII, no spaces or '+')")
    key_text = string("hq_pubkey", required=True)
    key = None
    if key_text is not None:
        try:
            key = public_key_from_b64(key_text)
        except ProtocolError as e:
            errors.append(f"sync.hq_pubkey: {e.reason}")
    if len(errors) > n_before or host is None or key is None:
        return None
    return SyncConfig(host, key, port, tls["tls_ca"], tls["tls_cert"], tls["tls_key"], username,
                      password, keepalive, expiry, telemetry, cosigner, batch)
