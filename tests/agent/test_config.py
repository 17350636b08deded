"""Config parsing: every error reported with its dotted key; the example file is valid."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent.cli import main
from agent.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def test_example_config_is_valid() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.box.id == "CQ-JB-001-B1"
    assert [p.id for p in cfg.printers] == ["front", "warehouse"]
    assert cfg.printer("warehouse") is not None
    shop = cfg.printer("warehouse")
    assert shop is not None and shop.profile.name == "shop-58"
    assert shop.profile.dbcs == "gbk" and shop.profile.paper_dots == 384 and shop.profile.cut
    assert cfg.queue.expiry_by_template["picking_list"] == 86400


def _raw(**over: object) -> dict[str, object]:
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    raw.update(over)
    return raw


def test_every_error_is_reported_with_its_dotted_key() -> None:
    raw = _raw(api={"listen": "0.0.0.0", "port": 70000})
    printers = raw["printers"]
    assert isinstance(printers, list)
    printers[0]["port"] = 0
    printers[1]["flow"] = "magic"
    printers.append({"id": "front", "profile": "nope", "transport": "pigeon"})
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    errors = e.value.errors
    assert "api.port: must be 1-65535" in errors
    assert any(x.startswith("api.token:") for x in errors)
    assert "printers[0].port: must be 1-65535" in errors
    assert any(x.startswith("printers[1].flow:") for x in errors)
    assert "printers[2].id: duplicate printer id 'front'" in errors
    assert any(x.startswith("printers[2].profile: unknown profile 'nope'") for x in errors)
    assert any(x.startswith("printers[2].transport:") for x in errors)


def test_unknown_keys_and_bad_profiles_are_named() -> None:
    raw = _raw(colour="blue", profiles={"x": {"base": "generic-cn-80", "columns": 3,
                                              "dbcs": "klingon", "speed": 5}})
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert "colour: unknown key" in e.value.errors
    # A profile stops at its first bad key; the others are still all reported.
    assert any(x.startswith("profiles.x.") for x in e.value.errors)


def test_non_loopback_listen_needs_a_token() -> None:
    with pytest.raises(ConfigError):
        parse_config(_raw(api={"listen": "192.168.1.20", "token": "short"}))
    cfg = parse_config(_raw(api={"listen": "192.168.1.20", "token": "Xq3-vT9pLw2_Zk7rMb4N"}))
    assert cfg.api.listen == "192.168.1.20"
    assert parse_config(_raw(api={"listen": "::1"})).api.listen == "::1"


def test_cli_config_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(EXAMPLE)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("port = 9100", "port = 99999"),
                   encoding="utf-8")
    assert main(["config", "check", str(bad)]) == 2
    assert "printers[0].port: must be 1-65535" in capsys.readouterr().err
    broken = tmp_path / "broken.toml"
    broken.write_text("[box\n", encoding="utf-8")
    assert main(["config", "check", str(broken)]) == 2
    assert main(["config", "check", str(tmp_path / "missing.toml")]) == 2


def test_the_commented_sync_example_is_valid_once_uncommented() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    head, _, tail = text.partition("# [sync]")
    block = "\n".join(line[2:] for line in ("# [sync]" + tail).splitlines()
                      if line.startswith("# "))
    cfg = parse_config(tomllib.loads(head + block))
    assert cfg.sync is not None and cfg.sync.port == 8883 and cfg.sync.keepalive_s == 20
