"""`storelink hq doctor` against a healthy HQ (a real broker) and a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from hq.cli import doctor
from tests.e2e.broker import Broker, free_port
from tests.hq.journals import hq_toml


def run(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = doctor(config)
    return code, capsys.readouterr().out.splitlines()


def test_a_healthy_hq_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    try:
        code, lines = run(hq_toml(tmp_path, broker.port), capsys)
    finally:
        broker.stop()
    assert code == 0, lines
    assert lines[1].startswith("✓ 配置文件：") and "已配置 1 台门店设备" in lines[1]
    assert f"✓ 密钥文件：{tmp_path / 'hq.key'} 权限 0600" in lines
    assert f"✓ MQTT 服务器 127.0.0.1:{broker.port}：可以连接（未加密）" in lines
    assert lines[-1] == "结果：全部正常 / all checks passed"


def test_a_broken_hq_names_each_failure_with_its_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = hq_toml(tmp_path, free_port())
    (tmp_path / "hq.key").chmod(0o640)
    code, lines = run(config, capsys)
    assert code == 1
    i = lines.index(f"✗ 密钥文件：{tmp_path / 'hq.key'} 权限 0640，别人也能读取")
    assert lines[i + 1] == f"    修复：chmod 600 {tmp_path / 'hq.key'}"
    broker = next(x for x in lines if x.startswith("✗ MQTT 服务器"))
    assert broker.endswith("MQTT 服务器拒绝连接：MQTT 服务未运行或端口不对")
    assert lines[-1] == "结果：2 项需要处理 / 2 check(s) failed"


def test_a_bad_config_fails_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hq.toml"
    path.write_text("[hq]\nid = 3\n", encoding="utf-8")
    code, lines = run(path, capsys)
    assert code == 1 and lines[1] == f"✗ 配置文件：{path} 有误"
