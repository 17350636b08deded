"""`storelink hq doctor` with `[pairing]`: the CA's key and the CRL's freshness, with fixes."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from hq.cli import doctor
from hq.pki.ca_dir import CaDir
from tests.e2e.broker import free_port

NOW = datetime.datetime.now(datetime.UTC)


def config(tmp_path: Path) -> Path:
    p = tmp_path / "hq.toml"
    p.write_text(f"""
[mqtt]
port = {free_port()}

[pairing]
ca_dir = "pki"
broker_host = "mqtt.example.cn"
""", encoding="utf-8")
    return p


def lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    doctor(config(tmp_path))
    return capsys.readouterr().out.splitlines()


def test_a_fresh_ca_passes_and_no_boxes_are_needed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    CaDir(tmp_path / "pki").init("Storelink HQ CA", NOW, 3650)
    out = lines(tmp_path, capsys)
    assert f"✓ 密钥文件：{tmp_path / 'pki' / 'ca.key'} 权限 0600" in out
    assert any(x.startswith("✓ 吊销列表：有效，还有 29 天") for x in out), out
    assert not any(x.startswith("✗ 门店设备") for x in out)


def test_no_ca_and_a_stale_crl_are_named_with_their_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = lines(tmp_path, capsys)
    i = out.index(f"✗ 证书颁发机构：{tmp_path / 'pki'} 里没有 CA，无法接入新设备")
    assert out[i + 1] == f"    修复：storelink hq pki init --dir {tmp_path / 'pki'}"
    ca = CaDir(tmp_path / "pki")
    ca.init("Storelink HQ CA", NOW, 3650)
    ca.publish_crl(NOW - datetime.timedelta(days=2), days=1)
    out = lines(tmp_path, capsys)
    i = out.index("✗ 吊销列表：吊销列表已过期：MQTT 服务器会拒绝所有设备")
    assert out[i + 1].startswith(f"    修复：storelink hq pki crl --dir {tmp_path / 'pki'}")
    ca.publish_crl(NOW, days=3)
    assert "✗ 吊销列表：吊销列表 2 天后过期" in lines(tmp_path, capsys)
