"""A production task from HQ to the box over MQTT, with real processes (`storelink hq run`,
`storelink agent run`, mosquitto): HQ's signed `production_task` command is recorded on the box
with the command's nonce and split at once; a malformed task fails naming its field and leaves no
record; the task records reach HQ's verified copy of the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.station.conftest import HINGES
from tests.e2e.daemon_world import BOX, DaemonWorld
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(600)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path) as w:
        yield w


def _send(w: DaemonWorld, task: dict[str, Any]) -> dict[str, Any]:
    status, cmd = w.hq_api("POST", f"/v1/boxes/{BOX}/commands",
                           {"name": "production_task", "args": {"task": task}})
    assert status == 202, cmd
    wait_for(lambda: w.hq_api("GET", f"/v1/commands/{cmd['nonce']}")[1].get("result"),
             what="command answered")
    out: dict[str, Any] = w.hq_api("GET", f"/v1/commands/{cmd['nonce']}")[1]
    return {**out, "nonce": cmd["nonce"]}


def _records(lines: list[str], type_: str) -> list[dict[str, Any]]:
    return [r for r in (json.loads(line)["record"] for line in lines) if r["type"] == type_]


def test_hq_sends_a_task_and_the_box_records_and_splits_it(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    bad = _send(world, {**HINGES, "route": [{"step": 10, "name": "下料", "rate_fen": -5}]})
    assert bad["result"] == "failed" and "route[0].rate_fen" in bad["error"], bad
    done = _send(world, HINGES)
    assert done["result"] == "done", done
    (task,) = _records(world.box_journal(), "production_task")
    assert task["body"]["source"] == "hq" and task["body"]["ref"] == done["nonce"]
    (split,) = _records(world.box_journal(), "split")
    assert [p["qty"] for p in split["body"]["parts"]] == [80] * 12 + [40]
    status, view = world.box_api("GET", f"/v1/production-tasks/{HINGES['task_no']}")
    assert status == 200 and len(view["parts"]) == 13
    # HQ sends a task again under a new nonce (e.g. after a command expired while the box was
    # away, docs/protocol.md §10): done, and still one record.
    again = _send(world, HINGES)
    assert again["result"] == "done" and again["nonce"] != done["nonce"], again
    assert len(_records(world.box_journal(), "production_task")) == 1
    wait_for(lambda: len(_records(world.hq_journal(), "split")) == 1,
             what="the task's records verified at HQ")
