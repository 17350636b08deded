"""The configuration's error contract: wrong types say so, unknown keys suggest the nearest key,
huge integers are a clean error (box and HQ alike)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, parse_config
from hq.config import HqConfigError, load_hq_config, parse_hq_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"


def _errors(text: str) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(tomllib.loads(text))
    return e.value.errors


def _example(old: str = "", new: str = "") -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_a_quoted_port_is_a_wrong_type_not_a_range(tmp_path: Path) -> None:
    path = tmp_path / "box.toml"
    path.write_text(_example("port = 8470", 'port = "8470"').replace(
        "port = 9100", 'port = "9100"', 1), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert "api.port: must be an integer, got a string" in e.value.errors
    assert "printers[0].port: must be an integer, got a string" in e.value.errors


def test_an_unknown_key_suggests_the_nearest_known_one() -> None:
    errors = _errors(_example("port = 8470", 'prot = 1\nlisen = "::1"\ncolour = "blue"'))
    assert "api.prot: unknown key; did you mean `port`?" in errors
    assert "api.lisen: unknown key; did you mean `listen`?" in errors
    assert "api.colour: unknown key" in errors
    assert "printrs: unknown key; did you mean `printers`?" in _errors(
        _example() + "\n[[printrs]]\nid = 1\n")


def test_chinese_text_is_kept_and_a_wrong_type_beside_it_is_named() -> None:
    raw = tomllib.loads(_example('id = "front"', 'id = "前台"').replace(
        'receipt_printer = "front"', 'receipt_printer = "前台"'))
    raw["journal"]["workers"] = [{"id": "W01", "name": "赵大勇"}]
    cfg = parse_config(raw)
    assert cfg.printers[0].id == "前台" and cfg.journal.workers[0].name == "赵大勇"
    raw["journal"]["workers"] = [{"id": "W01", "name": 5}]
    with pytest.raises(ConfigError) as e:
        parse_config(raw)
    assert e.value.errors == ["journal.workers[0].name: must be a string, got an integer"]


def test_a_huge_integer_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(_example("port = 8470", "port = " + "9" * 5000), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert e.value.errors[0].startswith(f"{path}: not valid TOML")
    hq = tmp_path / "hq.toml"
    hq.write_text("[mqtt]\nport = " + "9" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(HqConfigError) as h:
        load_hq_config(hq)
    assert h.value.errors[0].startswith(f"{hq}: not valid TOML")
    with pytest.raises(ConfigError) as e:
        parse_config({**tomllib.loads(EXAMPLE.read_text(encoding="utf-8")),
                      "api": {"port": 10**40}})
    assert e.value.errors == ["api.port: must be 1-65535"]


def test_hq_says_the_same() -> None:
    with pytest.raises(HqConfigError) as e:
        parse_hq_config({"mqtt": {"port": "1883", "prot": 1}, "api": {"port": -1},
                         "boxes": [{"id": "门店1", "pubkeys": ["00" * 32]}]})
    assert e.value.errors == ["mqtt.prot: unknown key; did you mean `port`?",
                              "mqtt.port: must be an integer, got a string",
                              "api.port: must be 0-65535 (0 picks a free port)",
                              "boxes[0].id: 1-64 characters of A-Z a-z 0-9 _ -"]
