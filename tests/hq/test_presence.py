"""How HQ shows a box's link (docs/protocol.md §1): from births, telemetry and Wills, with the
keep-alive the box announced; a Will is the broker's word, not a sign of life of the box."""

from __future__ import annotations

from pathlib import Path

from hq.fleet.registry import Registry
from hq.store.sqlite import SqliteStore
from sync.protocol.messages import Birth, Death, JournalPosition, Telemetry
from tests.hq.journals import BOX

T0 = 1_795_916_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def test_a_silent_box_then_its_will_give_the_window_the_link_died_in(tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    reg.birth(Birth(BOX, 7, T0, "0.1.0", "CQ-JB-001", (), JournalPosition(3, 3), 30,
                    "重庆江北建材旗舰店", keepalive_s=20))
    clock.now = T0 + 10_000
    reg.telemetry(Telemetry(BOX, 7, 1, clock.now, 5, (), {}, JournalPosition(3, 3)))
    view = reg.box(BOX)
    assert view is not None
    assert (view["presence"], view["keepalive_s"], view["link_lost_ms"]) == ("online", 20, None)
    # Nothing for 30 s + 51 s: HQ would have had the Will by now.
    clock.now = T0 + 10_000 + 81_001
    assert reg.boxes()[0]["presence"] == "silent" and reg.boxes()[0]["online"]
    # The Will arrives: offline, and the link died 51 to 30 s before it — not when it came.
    will_at = clock.now + 2_000
    clock.now = will_at
    assert reg.death(Death(BOX, 7, "lost")) == "offline"
    view = reg.box(BOX)
    assert view is not None
    assert (view["presence"], view["offline_reason"], view["since_ms"]) == (
        "offline", "lost", will_at)
    assert view["last_seen_ms"] == T0 + 10_000
    assert view["link_lost_ms"] == [will_at - 51_000, will_at - 30_000]


def test_a_clean_stop_is_heard_from_the_box_and_an_old_box_gets_the_default(
        tmp_path: Path) -> None:
    clock = Clock()
    reg = Registry(SqliteStore(tmp_path / "hq.db"), clock)
    reg.birth(Birth(BOX, 7, T0, "0.1.0", "CQ-JB-001", (), JournalPosition(3, 3), 30))
    clock.now = T0 + 5_000
    reg.death(Death(BOX, 7, "shutdown"))
    view = reg.box(BOX)
    assert view is not None
    assert (view["keepalive_s"], view["last_seen_ms"], view["link_lost_ms"]) == (
        20, T0 + 5_000, None)


def test_the_dashboard_shows_presence_and_the_window() -> None:
    from hq.web.dashboard import page_html

    page = page_html()
    assert "疑似离线" in page and "b.link_lost_ms" in page and "链路中断于" in page
