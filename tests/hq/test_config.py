"""HQ configuration: defaults, every error named by its dotted key, the key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hq.cli import main, pubkey, run
from hq.config import HqConfigError, load_hq_config, load_or_create_key, parse_hq_config
from tests.hq.journals import BOX, hq_toml


def test_a_written_config_loads_with_relative_paths_from_its_directory(tmp_path: Path) -> None:
    cfg = load_hq_config(hq_toml(tmp_path, 1883))
    assert cfg.id == "hq-1" and cfg.mqtt.port == 1883 and cfg.mqtt.share_group == "storelink-hq"
    assert list(cfg.boxes) == [BOX] and len(cfg.boxes[BOX].pubkeys[0]) == 32
    rel = parse_hq_config({"hq": {"db": "data/hq.db"}}, tmp_path)
    assert rel.db == tmp_path / "data" / "hq.db" and rel.api_port == 8480


@pytest.mark.parametrize(("raw", "error"), [
    ({"hq": {"id": "hq/1"}}, "hq.id:"),
    ({"hq": {"cosigner": "has space"}}, "hq.cosigner:"),
    ({"mqtt": {"port": 0}}, "mqtt.port:"),
    ({"mqtt": {"keepalive_s": 120}}, "mqtt.keepalive_s:"),
    ({"mqtt": {"tls_cert": "c.pem"}}, "mqtt.tls_key:"),
    ({"mqtt": {"colour": 1}}, "mqtt.colour: unknown key"),
    ({"api": {"listen": "0.0.0.0"}}, "api.token:"),
    ({"dispatch": {"default_expiry_s": 0}}, "dispatch.default_expiry_s:"),
    ({"boxes": [{"id": "b1", "pubkeys": ["zz"]}]}, "boxes[0].pubkeys[0]:"),
    ({"boxes": [{"id": "b1", "pubkeys": []}]}, "boxes[0].pubkeys:"),
    ({"boxes": [{"id": "b 1", "pubkeys": ["00" * 32]}]}, "boxes[0].id:"),
    ({"boxes": [{"id": "b1", "pubkeys": ["00" * 32], "log": "x"}]}, "boxes[0].log:"),
    ({"nonsense": {}}, "nonsense: unknown key"),
    ({"reports": {"first_contact_share": 1.5}}, "reports.first_contact_share:"),
    ({"reports": {"first_contact_share": "30%"}}, "reports.first_contact_share:"),
    ({"reports": {"share": 0.3}}, "reports.share: unknown key"),
])
def test_errors_name_the_dotted_key(raw: dict[str, object], error: str) -> None:
    with pytest.raises(HqConfigError) as e:
        parse_hq_config(raw)
    assert any(line.startswith(error) for line in e.value.errors), e.value.errors


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    k1 = load_or_create_key(tmp_path / "k" / "hq.key")
    assert stat.S_IMODE((tmp_path / "k" / "hq.key").stat().st_mode) == 0o600
    k2 = load_or_create_key(tmp_path / "k" / "hq.key")
    assert k1.private_bytes_raw() == k2.private_bytes_raw()
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(HqConfigError):
        load_or_create_key(tmp_path / "bad.key")


def test_entry_points_report_bad_configs_with_exit_2(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[mqtt]\nport = "x"\n')
    assert run(bad) == 2
    assert "mqtt.port: must be an integer" in capsys.readouterr().err
    assert run(tmp_path / "missing.toml") == 2
    good = hq_toml(tmp_path)
    assert pubkey(good) == 0
    assert capsys.readouterr().out.strip() == "gG6E18ci925Y6HB+kTUxYPu6J2RsUc5rm06ww6seqCY="
    assert main(["pubkey", "--config", str(good)]) == 0
    assert main(["run", "--config", str(bad)]) == 2
