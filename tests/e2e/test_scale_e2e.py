"""A scale at HQ like a printer: the shipped daemon reports it online, then offline when its
cable is pulled, in its telemetry to the shipped HQ."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.sim.scale import ScaleSim
from tests.e2e.daemon_world import DaemonWorld
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path) as w:
        yield w


def scale_state(w: DaemonWorld) -> str | None:
    devices: list[dict[str, Any]] = w.box_view().get("devices") or []
    return next((d["state"] for d in devices if d["kind"] == "scale"), None)


def test_hq_sees_the_scale_online_then_offline(world: DaemonWorld) -> None:
    with ScaleSim("toledo-8217", grams=1234) as sim:
        with world.box_config.open("a", encoding="utf-8") as f:
            f.write(f'\n[[scales]]\nid = "bench"\nname = "五金称重台"\ndevice = "{sim.port}"\n'
                    'protocol = "toledo-8217"\noffline_after_ms = 500\n')
        world.start_box()
        wait_for(lambda: scale_state(world) == "ok", 60, "HQ sees the scale online")
        status, body = world.box_api("GET", "/v1/scales/bench/weight?timeout_ms=5000")
        assert (status, body["grams"]) == (200, 1234)
        sim.close()
        wait_for(lambda: scale_state(world) == "offline", 60, "HQ sees the scale offline")
    devices = world.box_view()["devices"]
    assert {"id": "bench", "kind": "scale", "state": "offline"}.items() <= next(
        d for d in devices if d["kind"] == "scale").items()
