"""The real box and HQ processes under the ACL file shipped in systemd/ (passwords instead of
certificates: the ACL's %u is the user name either way): cloud print and journal sync work,
and a box's credentials cannot write into another box's subtree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.mqtt_session import MqttSession, SessionConfig
from sync.protocol.messages import Birth, JournalPosition
from sync.protocol.topics import Down, Up, down, up
from tests.e2e.world import World, job, wait_for
from tests.hq.journals import BOX

pytestmark = pytest.mark.timeout(600)
ACL = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto-storelink.acl"
OTHER = "CQ-YB-002-B1"
USERS = {BOX: "box-密码-1", OTHER: "box-密码-2", "hq-1": "hq-密码-1"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with World(tmp_path, users=USERS, acl=ACL.read_text(encoding="utf-8")) as w:
        yield w


def publish_as(port: int, user: str, topic: str, payload: bytes) -> None:
    """Publish QoS 1, retained, with `user`'s credentials (the broker may drop it)."""
    async def go() -> None:
        s = MqttSession(SessionConfig("127.0.0.1", port, f"acl-{time.monotonic_ns()}",
                                      clean_start=True, username=user, password=USERS[user]))
        await s.start()
        assert await s.wait_connected(30)
        await s.publish(topic, payload, 1, True, wait_s=30)
        await s.stop()
    asyncio.run(go())


def birth(box: str, name: str, bdseq: int) -> bytes:
    return Birth(box, bdseq, bdseq, "0.1.0", "CQ-YB-002", (), JournalPosition(1, 1), 30,
                 name).to_json()


def test_box_and_hq_under_the_shipped_acl(world: World) -> None:
    world.start_box(sales=20, every_ms=20)
    wait_for(lambda: world.api("GET", f"/v1/boxes/{BOX}")[1].get("online"), what="online")
    # Cloud print: HQ → broker → box → printer, and the states back to HQ.
    assert world.api("POST", "/v1/print-jobs", {"box": BOX, "job": job("acl-print-1")})[0] == 201
    wait_for(lambda: world.api("GET", "/v1/print-jobs/acl-print-1")[1].get("state")
             == "printed", what="printed at HQ")
    assert world.printed() == ["acl-print-1"]
    # Journal sync: HQ holds exactly the box's chain, countersigned.
    wait_for(lambda: len(world.box_journal()) > 20 and world.box_journal()
             == world.hq_journal(), 120, "journals equal")
    assert world.api("GET", "/v1/alarms")[1]["alarms"] == []
    # The box announces its keep-alive, from which HQ's dead-link window follows.
    assert world.api("GET", f"/v1/boxes/{BOX}")[1]["keepalive_s"] == 5

    # The box's credentials cannot write into another box's subtree: neither a birth that
    # would show at HQ, nor a print job for that box.
    publish_as(world.broker.port, BOX, up(OTHER, Up.BIRTH), birth(OTHER, "伪造的门店", 9))
    publish_as(world.broker.port, BOX, down(OTHER, Down.PRINT), b'{"v":1}')
    # The same birth with the other box's own credentials goes through: the ACL made the
    # difference (births are applied in order, so the first one would have been seen).
    publish_as(world.broker.port, OTHER, up(OTHER, Up.BIRTH), birth(OTHER, "宜宾门店", 5))
    wait_for(lambda: world.api("GET", f"/v1/boxes/{OTHER}")[0] == 200, what="other box")
    view = world.api("GET", f"/v1/boxes/{OTHER}")[1]
    assert (view["name"], view["bdseq"]) == ("宜宾门店", 5)
    log = world.broker.log()
    assert f"'{up(OTHER, Up.BIRTH)}'" in log and f"'{down(OTHER, Down.PRINT)}'" in log
    denied = [line for line in log.splitlines() if "Denied PUBLISH" in line]
    assert any(up(OTHER, Up.BIRTH) in line for line in denied), denied
    assert any(down(OTHER, Down.PRINT) in line for line in denied), denied
    assert not any(BOX in line.split("'")[1] for line in denied if "'" in line)
