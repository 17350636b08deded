"""`storelink doctor` against a healthy box (real printer sim, real broker) and a deliberately
broken one; the daemon refuses to start over a key file others may read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.cli import main
from agent.journal.keys import write_key
from tests.agent.conftest import SimFactory, free_port
from tests.e2e.broker import Broker, env_with_root
from tests.e2e.world import front_printer, store_box

PUB = "gG6E18ci925Y6HB+kTUxYPu6J2RsUc5rm06ww6seqCY="
TOKEN = "s3cret-token-0123456789"
PASSWORD = "mqtt-pass-不能外泄"


def write_config(tmp_path: Path, printer_port: int, broker_port: int, *,
                 disk_min_free_mb: int = 1, tls: tuple[Path, Path] | None = None) -> Path:
    state = tmp_path / "state"
    tls_lines = (f'tls_cert = "{tls[0]}"\ntls_key = "{tls[1]}"\n' if tls else "")
    path = tmp_path / "storelink.toml"
    path.write_text(store_box(state) + f"""
[api]
listen = "127.0.0.1"
port = {free_port()}
token = "{TOKEN}"

[health]
disk_min_free_mb = {disk_min_free_mb}

[sync]
host = "127.0.0.1"
port = {broker_port}
hq_pubkey = "{PUB}"
username = "CQ-JB-001-B1"
password = "{PASSWORD}"
{tls_lines}""" + front_printer(printer_port), encoding="utf-8")
    return path


def doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["doctor", "--config", str(config)])
    out = capsys.readouterr().out
    assert TOKEN not in out and PASSWORD not in out  # never a secret
    return code, out


def make_key(tmp_path: Path) -> Path:
    key = tmp_path / "state" / "keys" / "box.key"
    write_key(key, Ed25519PrivateKey.generate())
    return key


def test_a_healthy_box_passes_every_check(tmp_path: Path, sim_printer: SimFactory,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _, shell = sim_printer()
    broker = Broker(tmp_path / "broker")
    broker.start()
    try:
        make_key(tmp_path)
        code, out = doctor(write_config(tmp_path, shell.port, broker.port), capsys)
    finally:
        broker.stop()
    assert code == 0, out
    assert "✗" not in out
    assert "✓ 配置文件" in out and "✓ 密钥文件" in out and "权限 0600" in out
    assert "✓ 状态目录" in out and "✓ 存储空间" in out
    assert f"✓ HQ 服务器 127.0.0.1:{broker.port}：可以连接（未加密）" in out
    assert f"✓ 打印机 front（前台小票机）：正常（IP 127.0.0.1:{shell.port}）" in out
    assert out.rstrip().endswith("结果：全部正常 / all checks passed")


def test_a_broken_box_names_each_failure_with_its_fix(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = make_key(tmp_path)
    key.chmod(0o644)
    dead_printer, dead_broker = free_port(), free_port()
    code, out = doctor(write_config(tmp_path, dead_printer, dead_broker,
                                    disk_min_free_mb=1_000_000), capsys)
    assert code == 1
    lines = out.splitlines()

    def fix_of(prefix: str) -> str:
        i = next(i for i, line in enumerate(lines) if line.startswith(prefix))
        assert lines[i + 1].startswith("    修复：")
        return lines[i + 1].removeprefix("    修复：")

    assert fix_of(f"✗ 密钥文件：{key} 权限 0644") == f"chmod 600 {key}"
    assert fix_of("✗ 存储空间：只剩 ").startswith("清理存储卡")
    assert "拒绝连接" in next(x for x in lines if x.startswith("✗ HQ 服务器"))
    assert "防火墙放行" in fix_of("✗ HQ 服务器")
    assert f"✗ 打印机 front（前台小票机）：打印机无响应：检查网线和 IP 127.0.0.1:{dead_printer}" \
        in lines
    assert fix_of("✗ 打印机 front") == f"检查网线和 IP 127.0.0.1:{dead_printer}"
    assert any("详细：" in x and "refused" in x for x in lines)  # raw text only as detail
    assert lines[-1] == "结果：4 项需要处理 / 4 check(s) failed"


def test_a_bad_config_is_the_first_and_only_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "storelink.toml"
    path.write_text('[box]\nid = ""\n[api]\nport = 0\n', encoding="utf-8")
    code, out = doctor(path, capsys)
    assert code == 1
    assert out.splitlines()[1] == f"✗ 配置文件：{path} 有误"
    assert "box.id: must not be empty" in out and "api.port: must be 1-65535" in out


def test_the_daemon_refuses_a_tls_key_others_may_read(tmp_path: Path) -> None:
    cert, key = tmp_path / "box.crt", tmp_path / "box.key"
    cert.write_text("not used: the daemon stops before it connects\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o640)
    config = write_config(tmp_path, free_port(), free_port(), tls=(cert, key))
    r = subprocess.run([sys.executable, "-m", "agent", "agent", "run", "--config", str(config)],
                       env=env_with_root(), capture_output=True, text=True, timeout=120,
                       check=False)
    assert r.returncode == 1
    assert "密钥文件权限过宽，拒绝启动 / refusing to start" in r.stderr
    assert f"{key} (mode 0640)" in r.stderr and f"chmod 600 {key}" in r.stderr
    assert not (tmp_path / "state" / "journal.db").exists()  # refused before opening anything


def test_doctor_checks_the_configuration_hq_sent_when_the_box_runs_it(
        tmp_path: Path, sim_printer: SimFactory, capsys: pytest.CaptureFixture[str]) -> None:
    _, shell = sim_printer()
    make_key(tmp_path)
    dead = free_port()
    config = write_config(tmp_path, dead, free_port())
    sent = tmp_path / "state" / "config-from-hq.toml"
    sent.write_text(config.read_text(encoding="utf-8").replace(f"port = {dead}\n",
                                                                f"port = {shell.port}\n"),
                    encoding="utf-8")
    sent.chmod(0o600)
    _, out = doctor(config, capsys)
    assert f"✓ 总部下发的配置：盒子按总部下发的 {sent} 运行" in out
    # The printer is checked where HQ's configuration points, not at the file's dead port.
    assert f"✓ 打印机 front（前台小票机）：正常（IP 127.0.0.1:{shell.port}）" in out

    sent.write_text("[box]\nid = \"别的盒子\"\n", encoding="utf-8")
    code, out = doctor(config, capsys)
    assert code != 0 and f"✗ 总部下发的配置：{sent} 无法使用，盒子按 {config} 运行" in out
    assert "打印机 front（前台小票机）" in out and f"127.0.0.1:{dead}" in out
