"""The [sync] table: defaults, errors named sync.key, and HQ's key as journal cosigner."""

from __future__ import annotations

import pytest

from agent.uplink.config import parse_sync_table
from sync.journal.checkpoint import ALG_COSIGNATURE_V1, note_key_hash
from sync.journal.record import public_bytes

PUB = "gG6E18ci925Y6HB+kTUxYPu6J2RsUc5rm06ww6seqCY="


def test_defaults_and_cosigners() -> None:
    errors: list[str] = []
    cfg = parse_sync_table({"host": "mqtt.example.cn", "hq_pubkey": PUB}, errors)
    assert errors == [] and cfg is not None
    assert (cfg.port, cfg.keepalive_s, cfg.telemetry_interval_s) == (8883, 20, 30)
    assert cfg.session_expiry_s == 7 * 86_400
    (name, kh), key = next(iter(cfg.cosigners().items()))
    assert name == "storelink-hq" and public_bytes(key) == public_bytes(cfg.hq_pubkey)
    assert kh == note_key_hash(name, ALG_COSIGNATURE_V1, public_bytes(key)).hex()


def test_an_empty_table_means_no_sync() -> None:
    errors: list[str] = []
    assert parse_sync_table({}, errors) is None and errors == []


@pytest.mark.parametrize(("raw", "error"), [
    ({"hq_pubkey": PUB}, "sync.host: is required"),
    ({"host": "h"}, "sync.hq_pubkey: is required"),
    ({"host": "h", "hq_pubkey": "AAAA"}, "sync.hq_pubkey:"),
    ({"host": "h", "hq_pubkey": PUB, "keepalive_s": 60}, "sync.keepalive_s:"),
    ({"host": "h", "hq_pubkey": PUB, "port": 0}, "sync.port:"),
    ({"host": "h", "hq_pubkey": PUB, "tls_key": "k.pem"}, "sync.tls_key:"),
    ({"host": "h", "hq_pubkey": PUB, "password": "p"}, "sync.username:"),
    ({"host": "h", "hq_pubkey": PUB, "hq_cosigner": "a b"}, "sync.hq_cosigner:"),
    ({"host": "h", "hq_pubkey": PUB, "colour": "red"}, "sync.colour: unknown key"),
])
def test_errors_name_the_key(raw: dict[str, object], error: str) -> None:
    errors: list[str] = []
    assert parse_sync_table(raw, errors) is None
    assert any(e.startswith(error) for e in errors), errors
