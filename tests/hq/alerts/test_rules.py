"""The pure core of alerts: snapshots and `now` in, conditions and raise/clear plans out; any
sequence of snapshots raises each episode once and clears it once (Hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hq.alert_config import KINDS, AlertConfig, Kind
from hq.alerts.rules import (
    Condition,
    Disagreement,
    OpenPeriod,
    Snapshot,
    china_day,
    china_day_start_ms,
    conditions,
    judged_kinds,
    plan,
)

NOW = 1_796_000_000_000
CFG = AlertConfig(offline_after_s=300, sync_lag_records=100, sync_lag_s=600)
STORES = {"B1": "重庆江北店"}


def box(presence: str = "online", **over: Any) -> dict[str, Any]:
    return {"id": "B1", "presence": presence, "since_ms": NOW - 1000, "last_seen_ms": NOW - 1000,
            "offline_reason": "lost", "devices": [], "sync_lag": 0, "store": None, **over}


def keys(snap: Snapshot, now: int = NOW, cfg: AlertConfig = CFG) -> set[tuple[str, str]]:
    return set(conditions(snap, cfg, now))


def test_every_configured_kind_has_a_chinese_name() -> None:
    from typing import get_args

    assert set(get_args(Kind)) == set(KINDS)


def test_a_box_is_offline_only_after_the_threshold() -> None:
    snap = Snapshot([box("offline", since_ms=NOW - 300_000)], store_of=STORES)
    found = conditions(snap, CFG, NOW)
    assert set(found) == {("box_offline", "B1")}
    c = found[("box_offline", "B1")]
    assert (c.box, c.store, c.detail["since_ms"]) == ("B1", "重庆江北店", NOW - 300_000)
    assert keys(Snapshot([box("offline", since_ms=NOW - 299_999)])) == set()
    assert keys(Snapshot([box("silent", last_seen_ms=NOW - 400_000)])) == {("box_offline", "B1")}
    assert keys(Snapshot([box("never")])) == set()
    assert keys(Snapshot([box("unknown", since_ms=0)])) == set()


def test_printer_states_raise_their_kinds_for_online_boxes_only() -> None:
    devices = [{"id": "front", "kind": "printer", "state": "paper_out", "detail": "缺纸"},
               {"id": "label", "kind": "printer", "state": "cover_open", "detail": "开盖"},
               {"id": "back", "kind": "printer", "state": "offline", "detail": ""},
               {"id": "ok", "kind": "printer", "state": "ok", "detail": ""},
               {"id": "scan", "kind": "scanner", "state": "offline", "detail": ""}]
    assert keys(Snapshot([box(devices=devices)])) == {
        ("printer_paper_out", "B1/front"), ("printer_cover_open", "B1/label"),
        ("printer_offline", "B1/back")}
    assert keys(Snapshot([box("offline", since_ms=NOW, devices=devices)])) == set()


def test_sync_lag_by_records_or_by_seconds_since_hq_last_stored_one() -> None:
    assert keys(Snapshot([box(sync_lag=100)])) == {("sync_lag", "B1")}
    assert keys(Snapshot([box(sync_lag=99)], received_ms={"B1": NOW - 599_000})) == set()
    late = Snapshot([box(sync_lag=1, since_ms=NOW - 3_600_000)], received_ms={"B1": NOW - 600_000})
    assert keys(late) == {("sync_lag", "B1")}
    # A box that just came online has had no time to catch up yet.
    assert keys(Snapshot([box(sync_lag=5, since_ms=NOW - 1000)], received_ms={"B1": 0})) == set()


def test_a_gap_heals_when_hq_holds_past_it_and_a_fork_stays() -> None:
    alarms = [{"box": "B1", "kind": "gap", "seq": 7, "reason": "缺号", "at_ms": 1},
              {"box": "B1", "kind": "fork", "seq": 3, "reason": "两个版本", "at_ms": 2}]
    assert keys(Snapshot(alarms=alarms, sizes={"B1": 7})) == {
        ("journal_gap", "B1#7"), ("journal_fork", "B1#3")}
    assert keys(Snapshot(alarms=alarms, sizes={"B1": 8})) == {("journal_fork", "B1#3")}


def test_a_day_is_due_by_the_china_time_deadline_the_next_morning() -> None:
    first = china_day_start_ms("2026-12-06") + 10 * 3_600_000  # 10:00 on the 6th, China time
    assert china_day(first) == "2026-12-06"
    due = china_day_start_ms("2026-12-07") + 2 * 3_600_000
    snap = Snapshot(open_periods=[OpenPeriod("B1", first)], store_of=STORES)
    assert keys(snap, due - 1) == set()
    found = conditions(snap, CFG, due)
    assert set(found) == {("day_not_closed", "B1#2026-12-06")}
    assert found[("day_not_closed", "B1#2026-12-06")].detail["due_ms"] == due
    later = AlertConfig(day_close_by="06:30")
    assert keys(snap, due, later) == set()
    assert keys(snap, due + int(4.5 * 3_600_000), later) == {("day_not_closed", "B1#2026-12-06")}


def test_a_disagreeing_close_raises_a_clearing_difference() -> None:
    d = Disagreement("B1", 4, "2026-12-06", ({"field": "period.net", "hq": 100, "box": 90,
                                              "diff": 10},))
    found = conditions(Snapshot(disagreements=[d]), CFG, NOW)
    assert found[("clearing_difference", "B1#z4")].detail["differences"][0]["diff"] == 10


def test_disabled_kinds_and_box_kinds_while_hqs_link_is_down_are_not_judged() -> None:
    snap = Snapshot([box("offline", since_ms=0)], link_up=False)
    assert "box_offline" not in judged_kinds(snap, CFG)
    assert keys(snap) == set()
    only = AlertConfig(kinds=frozenset({"sync_lag"}))
    assert keys(Snapshot([box("offline", since_ms=0)]), cfg=only) == set()
    assert judged_kinds(snap, AlertConfig(enabled=False)) == frozenset()


def test_plan_raises_new_clears_gone_and_keeps_unjudged_and_latched() -> None:
    c = Condition("box_offline", "B1")
    p = plan(set(), set(), {c.key: c}, {"box_offline"})
    assert (p.raise_, p.clear) == ((c,), ())
    p = plan({c.key}, set(), {c.key: c}, {"box_offline"})
    assert (p.raise_, p.clear) == ((), ())
    p = plan({c.key, ("journal_fork", "B1#3")}, set(), {}, {"box_offline", "journal_fork"})
    assert p.clear == (("box_offline", "B1"),)
    assert plan({c.key}, set(), {}, {"sync_lag"}).clear == ()
    fork = Condition("journal_fork", "B1#3")
    assert plan(set(), {fork.key}, {fork.key: fork}, {"journal_fork"}).raise_ == ()


SUBJECTS = ("B1", "B2")
KIND_SUBSET = ("box_offline", "sync_lag", "journal_fork")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.frozensets(st.sampled_from(
    [(k, s) for k in KIND_SUBSET for s in SUBJECTS])), st.booleans()), max_size=30))
def test_any_sequence_raises_each_episode_once_and_clears_it_once(
        rounds: list[tuple[frozenset[tuple[str, str]], bool]]) -> None:
    """A model of the store (open set, ever-raised set) driven by plans. Seen over the rounds
    that judge a key's kind, each run of rounds where its condition holds (an episode) raises
    one alert and its end clears it once; a latched kind raises once ever and never clears."""
    open_: set[tuple[str, str]] = set()
    ever: set[tuple[str, str]] = set()
    raises: dict[tuple[str, str], int] = {}
    clears: dict[tuple[str, str], int] = {}
    starts: dict[tuple[str, str], int] = {}
    ends: dict[tuple[str, str], int] = {}
    held: set[tuple[str, str]] = set()
    for holding_keys, link_up in rounds:
        judged = set(KIND_SUBSET) if link_up else {"journal_fork"}
        holding = {k: Condition(*k) for k in holding_keys if k[0] in judged}
        p = plan(open_, ever, holding, judged)
        for c in p.raise_:
            assert c.key not in open_
            open_.add(c.key)
            ever.add(c.key)
            raises[c.key] = raises.get(c.key, 0) + 1
        for k in p.clear:
            assert k in open_ and k not in holding
            open_.remove(k)
            clears[k] = clears.get(k, 0) + 1
        for k in [(kind, s) for kind in judged for s in SUBJECTS]:
            if k in holding and k not in held:
                starts[k] = starts.get(k, 0) + 1
                held.add(k)
            elif k not in holding and k in held:
                ends[k] = ends.get(k, 0) + 1
                held.remove(k)
        assert set(holding) <= open_
    for k in set(raises) | set(starts):
        if k[0] == "journal_fork":
            assert raises.get(k, 0) == 1 and k not in clears
        else:
            assert raises.get(k, 0) == starts.get(k, 0)
            assert clears.get(k, 0) == ends.get(k, 0)
            assert (k in open_) == (k in held)
