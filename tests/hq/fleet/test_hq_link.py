"""HQ's own broker link and how boxes are shown: configured boxes never heard from (从未上线),
未知 while HQ cannot hear the broker, and a Will learnt just after HQ's link came back."""

from __future__ import annotations

from pathlib import Path

from hq.fleet.hq_link import HqLink, fleet_view
from hq.fleet.registry import Registry
from hq.store.sqlite import SqliteStore
from sync.protocol.messages import Birth, Death, JournalPosition
from tests.hq.journals import BOX

T0 = 1_795_916_000_000
OTHER = "CQ-YB-002-B1"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def born(reg: Registry, bdseq: int = 7) -> None:
    reg.birth(Birth(BOX, bdseq, T0, "0.1.0", "CQ-JB-001", (), JournalPosition(3, 3), 30,
                    "重庆江北建材旗舰店", keepalive_s=5))


def presences(reg: Registry, link: HqLink, clock: Clock) -> dict[str, str]:
    return {b["id"]: b["presence"]
            for b in fleet_view(reg.boxes(), (BOX, OTHER), link.snapshot(), clock.now)}


def test_every_configured_box_is_listed_even_before_it_ever_connected(tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    link = HqLink("127.0.0.1:1883", T0)
    link.connected(T0)
    view = fleet_view(reg.boxes(), (BOX, OTHER), link.snapshot(), T0)
    assert [(b["id"], b["presence"], b["online"]) for b in view] == [
        (BOX, "never", False), (OTHER, "never", False)]


def test_while_hq_cannot_hear_the_broker_every_box_is_unknown(tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    link = HqLink("127.0.0.1:1883", T0)
    assert link.connected(T0) == "HQ 与 MQTT 服务器已连接 / HQ broker link up: 127.0.0.1:1883"
    born(reg)
    assert presences(reg, link, clock) == {BOX: "online", OTHER: "never"}
    clock.now += 1_000
    line = link.failed("disconnected: Unspecified error", clock.now)
    assert line is not None and line.startswith("HQ 与 MQTT 服务器断开 / HQ broker link down")
    assert "与 MQTT 服务器的连接中断" in line
    assert link.failed("connect failed: [Errno 111] Connection refused", clock.now + 1) is None
    assert presences(reg, link, clock) == {BOX: "unknown", OTHER: "never"}
    obj = link.snapshot().to_obj()
    assert obj["label"] == "断开"
    assert obj["last_error"] == "MQTT 服务器拒绝连接：MQTT 服务未运行或端口不对"


def test_a_will_learnt_after_hq_came_back_is_unknown_until_the_box_had_time_to_return(
        tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    link = HqLink("127.0.0.1:1883", T0)
    link.connected(T0)
    born(reg)
    link.failed("disconnected", T0 + 1_000)
    clock.now = T0 + 20_000
    link.connected(clock.now)
    clock.now += 100  # the restarted broker hands over the box's Will
    reg.death(Death(BOX, 7, "lost"))
    assert presences(reg, link, clock)[BOX] == "unknown"
    born(reg, 8)  # the box reconnects by itself
    assert presences(reg, link, clock)[BOX] == "online"


def test_a_box_that_really_died_is_offline_after_the_grace(tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    link = HqLink("127.0.0.1:1883", T0)
    link.connected(T0)
    born(reg)
    clock.now = T0 + 60_000  # HQ's link up all along: the Will is the box's own death
    reg.death(Death(BOX, 7, "lost"))
    assert presences(reg, link, clock)[BOX] == "offline"
    link.failed("disconnected", clock.now)
    link.connected(clock.now + 1)
    clock.now += 2
    reg.death(Death(BOX, 7, "lost"))  # a duplicate: nothing new, still its own death
    assert presences(reg, link, clock)[BOX] == "offline"


def test_the_dashboard_shows_hq_link_never_and_unknown() -> None:
    from hq.web.dashboard import page_html

    page = page_html()
    assert 'unknown: "未知"' in page and 'never: "从未上线"' in page
    assert "总部与 MQTT 服务器：${link.label}" in page and "renderHqLink(boxes.hq_link)" in page
