"""HQ's dashboard data against real processes: configured boxes listed before they ever
connected (从未上线), HQ's own broker link shown, said once down and once up, and a killed
broker shows boxes as 未知 — never 离线 — until they are back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.request import urlopen

from tests.e2e.broker import Broker, free_port
from tests.e2e.procs import hq_process
from tests.e2e.world import World, wait_for
from tests.hq.journals import BOX, hq_toml


def boxes(url: str) -> dict[str, Any]:
    with urlopen(url + "/v1/boxes", timeout=30) as r:
        return dict(json.loads(r.read()))


def test_hq_without_broker_lists_its_boxes_and_says_its_link_is_down(tmp_path: Path) -> None:
    port = free_port()
    hq = hq_process(hq_toml(tmp_path, port), tmp_path / "hq.log").start()
    broker = Broker(tmp_path / "broker", port=port)
    try:
        wait_for(lambda: boxes(hq.url)["hq_link"]["state"] == "down", what="link down")
        body = boxes(hq.url)
        assert [(b["id"], b["presence"]) for b in body["boxes"]] == [(BOX, "never")]
        link = body["hq_link"]
        assert link["label"] == "断开"
        assert link["last_error"] == "MQTT 服务器拒绝连接：MQTT 服务未运行或端口不对"
        assert "Connection refused" in link["detail"]
        broker.start()
        wait_for(lambda: boxes(hq.url)["hq_link"]["state"] == "connected", what="link up")
        assert boxes(hq.url)["boxes"][0]["presence"] == "never"
    finally:
        hq.stop()
        broker.stop()
    log = hq.log_text()
    assert log.count("HQ 与 MQTT 服务器断开 / HQ broker link down") == 1, log
    assert log.count("HQ 与 MQTT 服务器已连接 / HQ broker link up") == 1, log


def presence(w: World) -> str:
    return next((str(b["presence"]) for b in boxes(w.hq.url)["boxes"] if b["id"] == BOX), "")


def test_a_killed_broker_shows_boxes_unknown_never_offline(world: World) -> None:
    world.start_box()
    wait_for(lambda: presence(world) == "online", what="box online")
    assert world.broker.proc is not None
    world.broker.proc.kill()  # no clean shutdown: the broker's sessions and Wills persist
    world.broker.proc.wait()
    seen: list[str] = []

    def settled(want: str) -> bool:
        seen.append(presence(world))
        return seen[-1] == want

    wait_for(lambda: settled("unknown"), what="boxes unknown while HQ's link is down")
    assert boxes(world.hq.url)["hq_link"]["state"] != "connected"
    world.broker.start()
    wait_for(lambda: settled("online"), wait_s=120, what="box back online")
    assert "offline" not in seen, seen
