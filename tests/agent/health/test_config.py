"""The [health] table: defaults, and errors named health.key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, parse_config
from agent.health.config import HealthConfig

ROOT = Path(__file__).resolve().parents[3]
BOX = {"box": {"id": "CQ-JB-001-B1", "state_dir": "/tmp/storelink-健康"}}


def test_defaults_and_the_example() -> None:
    assert parse_config(BOX).health == HealthConfig(200, 200, 60.0)
    assert load_config(ROOT / "config.example.toml").health == HealthConfig(200, 200, 60.0)
    assert parse_config({**BOX, "health": {"degraded_status": 503}}).health.degraded_status == 503


@pytest.mark.parametrize(("health", "error"), [
    ({"degraded_status": 404}, "health.degraded_status: must be one of 200, 503"),
    ({"disk_min_free_mb": -1}, "health.disk_min_free_mb: must be 0-1000000"),
    ({"stall_s": 0}, "health.stall_s: must be a number 1.0-3600.0"),
    ({"colour": "红"}, "health.colour: unknown key"),
])
def test_errors_name_the_key(health: dict[str, object], error: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config({**BOX, "health": health})
    assert error in e.value.errors
