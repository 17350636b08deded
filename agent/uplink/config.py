"""The `[sync]` table of the box configuration: how the box reaches HQ's MQTT broker."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from msgspec import Meta

from sync.journal.checkpoint import ALG_COSIGNATURE_V1, note_key_hash
from sync.journal.record import public_bytes
from sync.journal.rules import Cosigners
from sync.protocol import ProtocolError
from sync.protocol.commands import public_key_from_b64
from validation import Problem, Schema
from validation.decode import collect

NOTE_NAME = re.compile(r"^[!-*,-~]{1,128}$")


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


Given = Annotated[str, Meta(min_length=1)]


class SyncTable(Schema, frozen=True, kw_only=True):
    """`[sync]`."""

    host: Given
    hq_pubkey: Given
    port: Annotated[int, Meta(ge=1, le=65535)] = 8883
    tls_ca: Given | None = None
    tls_cert: Given | None = None
    tls_key: Given | None = None
    username: Given | None = None
    password: Given | None = None
    keepalive_s: Annotated[int, Meta(ge=5, le=40, extra={"reason": (
        "must be an integer 5-40 (HQ must hear of a dead link within about 100 s: the "
        "broker's Will comes up to 2.5 × keep-alive + 1 s)")})] = 20
    session_expiry_s: Annotated[int, Meta(ge=60, le=90 * 86_400)] = 7 * 86_400
    telemetry_interval_s: Annotated[int, Meta(ge=1, le=3600)] = 30
    hq_cosigner: Annotated[str, Meta(pattern=NOTE_NAME.pattern, extra={
        "reason": "a note key name (printable ASCII, no spaces or '+')"})] = "storelink-hq"
    batch_records: Annotated[int, Meta(ge=1, le=2000)] = 500


def parse_sync_table(raw: object, errors: list[str]) -> SyncConfig | None:
    """Validate a `[sync]` table; append `sync.key: reason` to `errors` for every problem.

    An empty or absent table means the box works alone (None). Port 1883 without TLS is
    allowed for a broker on the same machine or network; the example uses 8883 with TLS.
    """
    if not raw:
        return None
    problems: list[Problem] = []
    t = collect(raw, SyncTable, problems, "sync")
    if isinstance(raw, Mapping):
        if (raw.get("tls_cert") is None) != (raw.get("tls_key") is None):
            problems.append(Problem("sync.tls_key", "tls_cert and tls_key go together"))
        if raw.get("password") is not None and raw.get("username") is None:
            problems.append(Problem("sync.username", "is required with a password"))
    key = None
    if t is not None:
        try:
            key = public_key_from_b64(t.hq_pubkey)
        except ProtocolError as e:
            problems.append(Problem("sync.hq_pubkey", e.reason))
    errors.extend(str(p) for p in problems)
    if problems or t is None or key is None:
        return None
    return SyncConfig(t.host, key, t.port, t.tls_ca, t.tls_cert, t.tls_key, t.username,
                      t.password, t.keepalive_s, t.session_expiry_s, t.telemetry_interval_s,
                      t.hq_cosigner, t.batch_records)
