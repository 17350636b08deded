"""`storelink journal rotate-key` end to end: the real daemon rotates its key with a supervisor's
approval, HQ verifies and cosigns across the rotation, and the box restarts on the new key."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.journal.keys import load_key
from agent.sales.approvals import hash_secret
from sync.journal.record import key_id, public_bytes
from tests.e2e.broker import env_with_root
from tests.e2e.daemon_world import DaemonWorld, records, sale_request, storelink
from tests.e2e.world import wait_for

PIN = "8642"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    w = DaemonWorld(tmp_path)
    text = w.box_config.read_text(encoding="utf-8")
    w.box_config.write_text(text.replace("[journal]\nenabled = true\n", (
        "[journal]\nenabled = true\nsupervisors = [{id = \"M001\", name = \"刘强\", "
        f"pin_hash = \"{hash_secret(PIN, n=2**10)}\"}}]\n")), encoding="utf-8")
    try:
        yield w
    finally:
        w.close()


def rotate(w: DaemonWorld, pin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent", "journal", "rotate-key", "--config", str(w.box_config),
         "--reason", "年度密钥轮换", "--supervisor", "M001", "--clerk", "C001"],
        input=pin + "\n", capture_output=True, text=True, env=env_with_root(), timeout=120,
        check=False)


def sell(w: DaemonWorld, n: int) -> None:
    status, answer = w.box_api("POST", "/v1/sales", sale_request(n))
    assert status == 201, (status, answer)


def test_a_rotated_key_is_journaled_and_hq_verifies_across_it(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    for n in range(3):
        sell(world, n)
    wait_for(world.settled, 90, "first sales cosigned")
    old = key_id(public_bytes(load_key(world.box_key)))

    refused = rotate(world, "0000")
    assert refused.returncode == 1 and "403 approval" in refused.stderr, refused
    done = rotate(world, PIN)
    assert done.returncode == 0, done
    assert done.stdout.startswith(f"rotated: key {old} → "), done.stdout
    new = done.stdout.split(" → ")[1].split(" ")[0]
    assert key_id(public_bytes(load_key(world.box_key))) == new

    for n in range(3, 6):
        sell(world, n)
    wait_for(world.settled, 90, "sales after the rotation cosigned by HQ")
    assert world.box is not None
    world.box.stop()  # the box comes back on the new key
    world.start_box()
    wait_for(world.online, what="box online again")
    sell(world, 6)
    wait_for(world.settled, 90, "a sale after the restart cosigned by HQ")

    lines = world.hq_journal()
    assert lines == world.box_journal()
    recs = records(lines)
    [rot] = [r for r in recs if r["type"] == "key_rotate"]
    approval = recs[rot["seq"] - 1]
    assert approval["type"] == "approval" and approval["body"]["action"] == "journal_key_rotate"
    assert (rot["key"], rot["body"]["new_key"]) == (old, new)
    assert {r["key"] for r in recs[rot["seq"] + 1:]} == {new}
    # HQ cosigned sizes beyond the rotation, and its copy verifies from the box's first key.
    cosigned = [r["body"]["size"] for r in recs if r["type"] == "cosign"]
    assert max(cosigned) > rot["seq"] + 1
    export = world.root / "hq-copy.jsonl"
    export.write_text("".join(lines), encoding="utf-8")
    out = storelink("journal", "verify", str(export), "--pubkey", world.box_pubkey)
    assert out.startswith("valid: ") and f"keys: {old}, {new} (current {new})" in out, out
    out = world.verify_box_journal()
    assert out.startswith("valid: ") and "not checked" not in out
    pub = json.loads(storelink("journal", "pubkey", str(world.state / "journal.db")))
    assert [k["key_id"] for k in pub["keys"]] == [old, new]
