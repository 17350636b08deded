"""End to end (`storelink hq run` → mosquitto → `storelink agent run`): HQ's signed
`reload_config` carries a whole new configuration; the box checks it with the same validation
as its file, refuses a bad one naming every dotted key (the old one stays), and restarts its
services with a good one without losing a job; the new configuration survives a restart."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon_world import BOX, DaemonWorld, job
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path) as w:
        w.start_box()
        wait_for(w.online, what="box online at HQ")
        yield w


def reload(w: DaemonWorld, text: str) -> dict[str, Any]:
    """Send reload_config with `text` through HQ; the box's answer as HQ records it."""
    status, cmd = w.hq_api("POST", f"/v1/boxes/{BOX}/commands",
                           {"name": "reload_config", "args": {"toml": text}})
    assert status == 202, (status, cmd)
    path = f"/v1/commands/{cmd['nonce']}"
    wait_for(lambda: w.hq_api("GET", path)[1].get("result"), what="command answered")
    answer: dict[str, Any] = w.hq_api("GET", path)[1]
    return answer


def printer_name(w: DaemonWorld) -> str:
    status, body = w.box_api("GET", "/v1/printers")
    assert status == 200, (status, body)
    return str(next(p for p in body["printers"] if p["id"] == "front")["name"])


def test_a_bad_configuration_is_refused_naming_each_key_and_changes_nothing(
        world: DaemonWorld) -> None:
    w = world
    assert w.box is not None
    pid = w.box.pid
    good = w.box_config.read_text(encoding="utf-8")
    bad = (good.replace(f'id = "{BOX}"', 'id = "CQ-JB-999-B9"')
           .replace("port = 9100", "port = 70000")
           .replace('profile = "generic-cn-80"', 'profile = "不存在的型号"'))
    answer = reload(w, bad)
    assert answer["result"] == "refused", answer
    assert "box.id: must stay 'CQ-JB-001-B1'" in answer["error"], answer
    assert "printers[0].profile: unknown profile '不存在的型号'" in answer["error"], answer
    answer = reload(w, good + "\n[queue\n")
    assert answer["result"] == "refused", answer
    assert answer["error"].startswith("toml: not valid TOML"), answer
    answer = reload(w, good.replace("[journal]", "[journal]\nsurprise = 1"))
    assert answer["result"] == "refused" and "journal.surprise" in answer["error"], answer
    assert not (w.state / "config-from-hq.toml").exists()
    assert w.box.pid == pid and w.box.proc is not None and w.box.proc.poll() is None
    assert printer_name(w) == "前台小票机"
    status, _ = w.box_api("POST", "/v1/print-jobs", job("after-refusal"))
    assert status == 202
    wait_for(lambda: "after-refusal" in w.printed(), what="printing goes on")


def test_a_good_configuration_is_applied_without_losing_a_job_and_kept(
        world: DaemonWorld) -> None:
    w = world
    assert w.box is not None
    text = w.box_config.read_text(encoding="utf-8").replace('name = "前台小票机"',
                                                            'name = "收银台小票机（新）"')
    ids = [f"reload-{i}" for i in range(12)]
    for i in ids[:6]:
        status, answer = w.box_api("POST", "/v1/print-jobs", job(i))
        assert status == 202, (status, answer)
    answer = reload(w, text)
    assert answer["result"] == "done", answer
    assert answer["error"] == "", answer

    def renamed() -> bool:
        try:
            return printer_name(w) == "收银台小票机（新）"
        except (AssertionError, KeyError, TypeError):
            return False  # the API is closed for the moment of the restart

    wait_for(renamed, what="the new configuration running")
    for i in ids[6:]:
        status, body = w.box_api("POST", "/v1/print-jobs", job(i))
        assert status == 202, (status, body)
    wait_for(lambda: set(ids) <= set(w.printed()), what="every job printed")
    printed = w.printed()
    assert all(printed.count(i) == 1 for i in ids), printed
    saved = w.state / "config-from-hq.toml"
    assert saved.read_text(encoding="utf-8") == text
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    wait_for(w.online, what="back online at HQ")

    # The box's file is untouched, yet a restart runs what HQ sent.
    assert "前台小票机" in w.box_config.read_text(encoding="utf-8")
    assert w.box.stop() == 0
    w.start_box()
    assert printer_name(w) == "收银台小票机（新）"
    assert "running the configuration HQ sent" in w.box.log_text()
