"""Test journals built with the real record format: a box's chain, batches, HQ config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hq.config import BoxEntry
from hq.ingest.journal import JournalIngest
from hq.store import HqStore
from sync.journal.chain import MemoryChain
from sync.journal.record import Entry, public_bytes
from sync.protocol.messages import JournalBatch

BOX = "CQ-JB-001-B1"
LOG = "5e1f0c2a9b7d4e6f8a1b2c3d4e5f6a7b"
T0 = 1_795_914_000_000
BOX_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
    "d076813d0490c3a081e098f3bf4cb2072960df370724ecc174483d6f9d83c2ba"))
HQ_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
    "989219ccba03004d0ac7dc8b5d484d5f9cc2cf054edb9b4ab975048f429b8e7f"))


def ingest_of(store: HqStore, box_key: Ed25519PrivateKey, now: int, *,
              hq: Ed25519PrivateKey = HQ_KEY, cosigner: str = "storelink-hq") -> JournalIngest:
    """HQ's ingest into `store` of BOX's journal (signed with `box_key`), its clock at `now`."""
    return JournalIngest(store, {BOX: BoxEntry(BOX, (public_bytes(box_key),))}, hq, cosigner,
                         clock=lambda: now)


def sale_body(n: int) -> dict[str, Any]:
    """A valid sale of n pieces of 不锈钢合页 at 8.50 CNY paid by WeChat."""
    amount = 850 * n
    return {"order": f"XS-20261129-{n:04d}", "till": "T1", "cashier": "C001",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": n, "unit_price": 850,
                       "amount": amount}],
            "total": amount, "payments": [{"method": "wechat", "amount": amount}]}


def audit_body(n: int) -> dict[str, Any]:
    """A valid audit record."""
    return {"event": "user.login", "actor": "C001", "detail": f"李晓燕 登录收银台 T{n}"}


def chain(records: int, *, key: Ed25519PrivateKey = BOX_KEY, log: str = LOG,
          variant: int = 0, from_seq: int = 1 << 60) -> MemoryChain:
    """A journal of `records` records after genesis; records from `from_seq` on differ by
    `variant` (a rewritten history signed with the same key)."""
    c = MemoryChain(log=log, key=key, time=T0, boot="boot-1", software="storelink/0.1.0")
    for i in range(1, records + 1):
        k = i + variant if i >= from_seq else i
        if i % 3 == 0:
            c.append("sale", sale_body(k), T0 + i * 1000)
        else:
            c.append("audit", audit_body(k), T0 + i * 1000)
    return c


def obj(e: Entry) -> dict[str, Any]:
    """The wire object of one entry."""
    return {"hash": e.hash.hex(), "record": json.loads(e.raw), "sig": e.sig.hex()}


def batch(c: MemoryChain, start: int, end: int, box: str = BOX) -> JournalBatch:
    """Entries [start, end) of the chain as a batch."""
    return JournalBatch(box, c.head.log, start, tuple(obj(e) for e in c.entries[start:end]))


def hq_toml(tmp: Path, mqtt_port: int = 1883, api_port: int = 0, keepalive: int = 5,
            extra_boxes: str = "", db: str | None = None) -> Path:
    """An HQ config file for one registered box with the test keys; its store `db` (an SQLite
    file in `tmp` unless given, e.g. a PostgreSQL URL)."""
    key_file = tmp / "hq.key"
    if not key_file.exists():
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
        )
        key_file.write_bytes(HQ_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                  NoEncryption()))
        key_file.chmod(0o600)
    p = tmp / "hq.toml"
    p.write_text(f"""
[hq]
id = "hq-1"
cosigner = "storelink-hq"
key_file = "{key_file}"
db = "{db or tmp / 'hq.db'}"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}
keepalive_s = {keepalive}

[api]
listen = "127.0.0.1"
port = {api_port}

[[boxes]]
id = "{BOX}"
pubkeys = ["{public_bytes(BOX_KEY).hex()}"]
{extra_boxes}
""", encoding="utf-8")
    return p
