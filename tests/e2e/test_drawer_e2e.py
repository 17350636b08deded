"""The cash drawer's gate over MQTT, with real processes (`storelink agent run` and `storelink hq
run`, mosquitto, a simulated printer): a cloud print job that would open the drawer is refused on
a box whose drawer needs an approval, and HQ's signed `open_drawer` kicks it, journaled with the
command's id."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.sales.conftest import PIN_HASH
from tests.e2e.daemon_world import BOX, DaemonWorld, job
from tests.e2e.printer_proc import drawer_kicks
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    w = DaemonWorld(tmp_path)
    with w.box_config.open("a", encoding="utf-8") as f:
        f.write(f"""
[[journal.supervisors]]
id = "M001"
name = "刘强"
pin_hash = "{PIN_HASH}"
""")
    try:
        yield w
    finally:
        w.close()


def _audits(w: DaemonWorld, event: str) -> list[dict[str, Any]]:
    records = [json.loads(line)["record"] for line in w.box_journal()]
    return [r["body"] for r in records if r["type"] == "audit" and r["body"]["event"] == event]


def test_cloud_kicks_are_refused_and_hqs_signed_command_is_journaled(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    kicking = job("dr-20261129-0001")
    kicking["document"]["blocks"].insert(1, {"type": "drawer", "pin": 2})
    raw = {"id": "dr-20261129-0002", "printer": "front",
           "raw": base64.b64encode(b"\x1b@\x1bp\x00\x19\xfa").decode()}
    for body in (kicking, raw):
        assert world.hq_api("POST", "/v1/print-jobs", {"box": BOX, "job": body})[0] == 201
        wait_for(lambda b=body: world.job_state(b["id"]) == "refused", what="refused at intake")
        _, view = world.hq_api("GET", f"/v1/print-jobs/{body['id']}")
        assert "cash drawer" in view["intake_error"] and "approval" in view["intake_error"]
    # A plain job after them prints: the printer works, and nothing kicked the drawer.
    assert world.hq_api("POST", "/v1/print-jobs", {"box": BOX,
                                                   "job": job("dr-20261129-0003")})[0] == 201
    wait_for(lambda: world.job_state("dr-20261129-0003") == "printed", what="plain job printed")
    assert world.printed() == ["dr-20261129-0003"]
    assert drawer_kicks(world.printer_log) == []

    status, cmd = world.hq_api("POST", f"/v1/boxes/{BOX}/commands",
                               {"name": "open_drawer", "args": {"printer": "front", "pin": 5}})
    assert status == 202, cmd
    wait_for(lambda: world.hq_api("GET", f"/v1/commands/{cmd['nonce']}")[1].get("result"),
             what="command answered")
    assert world.hq_api("GET", f"/v1/commands/{cmd['nonce']}")[1]["result"] == "done"
    wait_for(lambda: drawer_kicks(world.printer_log) == [5], what="the drawer kicked")
    [opened] = _audits(world, "drawer.open")
    assert opened["actor"] == "hq" and f"HQ command {cmd['nonce']} (signed)" in opened["detail"]
