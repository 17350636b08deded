"""The box's pairing files under `{state_dir}/pairing/` (0600): the pending request (its code
and poll secret, deleted once adopted) and what HQ answered (the `[sync]` it stands for), and
the certificates under `{state_dir}/keys/`."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sync.pairing_code import new_code
from sync.protocol.pairing import PairingAnswer

DEFAULT_STATE_DIR = "/var/lib/storelink"
REQUEST = "pairing/request.json"
SYNC = "pairing/sync.json"
CERT = "keys/mqtt.crt"
CA = "keys/hq-ca.crt"


@dataclass(frozen=True)
class PendingCode:
    """The code on the slip, the secret the box polls HQ with, and when it was made."""

    code: str
    request: str
    created_ms: int
    printed: bool = False


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` with `data` as a 0600 file, durably and atomically."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def pending(state_dir: Path) -> PendingCode | None:
    """The request waiting for adoption, if any."""
    p = state_dir / REQUEST
    if not p.exists():
        return None
    return PendingCode(**json.loads(p.read_text(encoding="utf-8")))


def new_request(state_dir: Path, now_ms: int) -> PendingCode:
    """A fresh code and poll secret, saved (the old request, if any, is forgotten)."""
    made = PendingCode(new_code(secrets.token_bytes(5)), secrets.token_hex(16), now_ms)
    save(state_dir, made)
    return made


def save(state_dir: Path, req: PendingCode) -> None:
    """Save `req` (e.g. once its slip is printed)."""
    write_private(state_dir / REQUEST, json.dumps(asdict(req)).encode())


def store_answer(state_dir: Path, answer: PairingAnswer) -> dict[str, Any]:
    """Keep what HQ answered at adoption: certificate and CA beside the key, the `[sync]` table
    they make; the pending code is deleted (it is used). Returns that table."""
    assert answer.broker is not None
    write_private(state_dir / CERT, answer.cert.encode())
    write_private(state_dir / CA, answer.ca.encode())
    table = {"host": answer.broker.host, "port": answer.broker.port,
             "tls_ca": str(state_dir / CA), "tls_cert": str(state_dir / CERT),
             "tls_key": str(state_dir / "keys" / "mqtt.key"),
             "hq_pubkey": answer.hq_pubkey, "hq_cosigner": answer.hq_cosigner,
             "store": answer.store}
    write_private(state_dir / SYNC, json.dumps(table, ensure_ascii=False).encode())
    (state_dir / REQUEST).unlink(missing_ok=True)
    return table


def paired_sync(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """The `[sync]` table HQ's answer stands for, for the configuration `raw` (its
    `box.state_dir`); None before adoption."""
    box = raw.get("box")
    state_dir = box.get("state_dir", DEFAULT_STATE_DIR) if isinstance(box, Mapping) else None
    if not isinstance(state_dir, str):
        return None
    p = Path(state_dir) / SYNC
    if not p.exists():
        return None
    table: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    table.pop("store", None)
    return table


def adopted_store(state_dir: Path) -> str | None:
    """The store HQ adopted this box into, or None before adoption."""
    p = state_dir / SYNC
    if not p.exists():
        return None
    store = json.loads(p.read_text(encoding="utf-8")).get("store")
    return store if isinstance(store, str) else None


@dataclass(frozen=True)
class PairingView:
    """What the status page shows: waiting with a code, or adopted (the code is gone)."""

    state: str
    """`waiting`, `adopted`."""
    code: str = ""
    box: str = ""
    store: str = ""
    hq_url: str = ""
    expires_ms: int = 0
    error: str = ""
    """Why HQ could not be asked, in Chinese ("" while it answers)."""

    def json(self) -> dict[str, Any]:
        """The API's view."""
        return {"state": self.state, "code": self.code, "box": self.box, "store": self.store,
                "hq_url": self.hq_url, "expires_ms": self.expires_ms, "error": self.error}
