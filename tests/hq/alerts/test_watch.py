"""The alert shell on a real SQLite store, registry and settlement book: two workers judging
the same fleet raise each episode once and clear it once; a day without a close is due by the
China-time deadline; gaps heal when HQ holds past them."""

from __future__ import annotations

from pathlib import Path

from hq.alert_config import AlertConfig
from hq.alerts.rules import china_day, china_day_start_ms
from hq.alerts.watch import AlertWatch
from hq.fleet.hq_link import HqLink
from hq.fleet.registry import Registry
from hq.settlement.book import SettlementBook
from hq.store.sqlite import SqliteStore
from sync.journal.vectors import BOX1, HQ, HQ_NAME, build
from sync.protocol.messages import Birth, DeviceState, JournalPosition, Telemetry
from tests.hq.journals import BOX, batch, ingest_of

NOW = 1_796_000_500_000


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def birth(bdseq: int, at: int, printer: str = "ok") -> Birth:
    return Birth(BOX, bdseq, at, "0.1.0", "CQ-JB-001", (DeviceState("front", "printer", printer,
                                                                    "前台"),),
                 JournalPosition(0, 0), 30, "重庆江北建材旗舰店")


def watches(tmp_path: Path, clock: Clock, cfg: AlertConfig) -> list[AlertWatch]:
    out = []
    for _ in range(2):
        s = SqliteStore(tmp_path / "hq.db")
        link = HqLink("127.0.0.1:1883", clock())
        link.connected(clock())
        out.append(AlertWatch(s, cfg, "hq-1", Registry(s, clock), link, lambda: (BOX,),
                              {}, _never, clock))
    return out


async def _never(topic: str, payload: bytes) -> bool:
    return False


def test_two_workers_raise_and_clear_a_box_and_its_printer_once(tmp_path: Path) -> None:
    clock = Clock(NOW)
    cfg = AlertConfig(kinds=frozenset({"box_offline", "printer_paper_out"}), offline_after_s=60)
    ws = watches(tmp_path, clock, cfg)
    store = ws[0].store
    try:
        ws[0].registry.birth(birth(1, NOW, "paper_out"))
        assert [w.round() for w in ws] == [([1], []), ([], [])]
        [a] = store.alerts_open()
        assert (a.kind, a.subject, a.detail["text"]) == (
            "printer_paper_out", f"{BOX}/front", "前台")
        clock.ms = NOW + 5_000
        ws[1].registry.telemetry(Telemetry(BOX, 1, 1, NOW + 5_000, 5, (DeviceState(
            "front", "printer", "ok", ""),), {}, JournalPosition(0, 0)))
        assert [w.round() for w in ws] == [([], [1]), ([], [])]
        clock.ms = NOW + 5_000 + 30_000 + 60_000 * 3  # silent for far longer than a minute
        raised = [w.round() for w in ws]
        assert sorted(len(r[0]) for r in raised) == [0, 1]
        [off] = store.alerts_open()
        assert off.kind == "box_offline"
        clock.ms += 1000
        ws[0].registry.birth(birth(2, clock.ms))
        cleared = [w.round() for w in ws]
        assert sorted(len(c[1]) for c in cleared) == [0, 1]
        assert store.alerts_open() == []
        assert [(o.event, o.target) for o in store.outbox_of(off.id)] == [
            ("raised", "mqtt"), ("cleared", "mqtt")]
    finally:
        for w in ws:
            w.store.close()


def test_a_day_without_close_is_due_by_the_deadline_and_a_gap_heals(tmp_path: Path) -> None:
    s = SqliteStore(tmp_path / "hq.db")
    chain, _ = build()
    assert ingest_of(s, BOX1, NOW, hq=HQ, cosigner=HQ_NAME).ingest(
        batch(chain, 0, len(chain.entries), BOX)).ack.status == "ok"
    size = len(chain.entries)
    s.add_alarm(BOX, "gap", size + 3, "缺号", {}, NOW)
    s.add_alarm(BOX, "gap", size - 1, "早已补齐", {}, NOW)
    s.close()
    [open_period] = [p for p in SettlementBook(SqliteStore(tmp_path / "hq.db")).box(BOX)
                     if p.status == "open"]
    assert open_period.first_ms is not None
    day = china_day(open_period.first_ms)
    due = china_day_start_ms(day) + 26 * 3_600_000
    clock = Clock(due - 1)
    cfg = AlertConfig(kinds=frozenset({"day_not_closed", "journal_gap"}))
    ws = watches(tmp_path, clock, cfg)
    try:
        ws[0].round()
        assert {(a.kind, a.subject) for a in ws[0].store.alerts_open()} == {
            ("journal_gap", f"{BOX}#{size + 3}")}
        clock.ms = due
        ws[1].round()
        ws[0].round()
        got = {(a.kind, a.subject) for a in ws[0].store.alerts_open()}
        assert got == {("journal_gap", f"{BOX}#{size + 3}"), ("day_not_closed", f"{BOX}#{day}")}
    finally:
        for w in ws:
            w.store.close()
