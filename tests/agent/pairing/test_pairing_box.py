"""The box's side of pairing without a network: `[pairing]` validation, the slip as printed
(Chinese, the code as text and as QR), and the `[sync]` HQ's answer stands for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zxingcpp

from agent.config import ConfigError, load_config, parse_config
from agent.pairing.slip import slip_document
from agent.pairing.state import CERT, SYNC, paired_sync, store_answer
from agent.printing.jobs import parse_job, render_job
from drivers.escpos.render import render_bytes
from drivers.profiles import get_profile
from sync.protocol.pairing import Broker, PairingAnswer

BOX = {"id": "CQ-JB-001-B1", "store": "CQ-JB-001", "name": "重庆江北建材旗舰店"}
PRINTER = {"id": "front", "profile": "generic-cn-80", "transport": "tcp", "host": "127.0.0.1",
           "port": 9100}


def raw(state: Path, **pairing: object) -> dict[str, object]:
    return {"box": {**BOX, "state_dir": str(state)}, "printers": [PRINTER],
            "pairing": pairing}


@pytest.mark.parametrize(("pairing", "field"), [
    ({}, "pairing.hq_url"), ({"hq_url": "ftp://hq.example.cn"}, "pairing.hq_url"),
    ({"hq_url": "https://hq.example.cn/?x=1"}, "pairing.hq_url"),
    ({"hq_url": "https://hq.example.cn", "printer": "后台"}, "pairing.printer"),
    ({"hq_url": "https://hq.example.cn", "poll_s": 0}, "pairing.poll_s"),
    ({"hq_url": "https://hq.example.cn", "hq_pubkey": "x"}, "pairing.hq_pubkey"),
])
def test_bad_pairing_tables_name_the_key(tmp_path: Path, pairing: dict[str, object],
                                         field: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(raw(tmp_path, **pairing))
    assert any(err.startswith(field + ":") for err in e.value.errors), e.value.errors


def test_the_slip_prints_the_code_as_text_and_qr(tmp_path: Path) -> None:
    doc = slip_document("7KQ2M9XD", "CQ-JB-001-B1", "重庆江北建材旗舰店", "https://hq.example.cn")
    profile = get_profile("generic-cn-80")
    data = render_job(parse_job({"id": "slip", "printer": "front", "document": doc}),
                      profile).data
    assert b"7 K Q 2 - M 9 X D" in data
    assert "配对码".encode("gb18030") in data or "配对码".encode() in data
    image = render_bytes(data, profile)
    found = {r.text for r in zxingcpp.read_barcodes(image)}
    assert found == {"STORELINK-PAIR:7KQ2-M9XD"}


def test_the_answer_becomes_the_sync_table(tmp_path: Path) -> None:
    cfg_file = tmp_path / "storelink.toml"
    state = tmp_path / "state"
    cfg_file.write_text(f"""
[box]
id = "CQ-JB-001-B1"
store = "CQ-JB-001"
state_dir = "{state}"

[pairing]
hq_url = "https://hq.example.cn"
""", encoding="utf-8")
    assert load_config(cfg_file).sync is None
    assert paired_sync({"box": {"state_dir": str(state)}}) is None
    (state / "pairing").mkdir(parents=True)
    (state / "pairing" / "request.json").write_text("{}")
    answer = PairingAnswer(state="adopted", expires_ms=0, box="CQ-JB-001-B1", store="CQ-JB-001",
                           cert="-----BEGIN CERTIFICATE-----\n", ca="-----BEGIN CERTIFICATE-----\n",
                           broker=Broker(host="mqtt.example.cn", port=8883),
                           hq_pubkey="A" * 43 + "=", hq_cosigner="storelink-hq")
    store_answer(state, answer)
    assert not (state / "pairing" / "request.json").exists()
    for f in (SYNC, CERT):
        assert (state / f).stat().st_mode & 0o777 == 0o600
    cfg = load_config(cfg_file)
    assert cfg.sync is not None and (cfg.sync.host, cfg.sync.port) == ("mqtt.example.cn", 8883)
    assert cfg.sync.tls_cert == str(state / CERT)
    assert cfg.sync.tls_key == str(state / "keys" / "mqtt.key")
    assert json.loads((state / SYNC).read_text())["store"] == "CQ-JB-001"
