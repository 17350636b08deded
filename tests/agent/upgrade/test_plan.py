"""The upgrade trial's pure state machine: commit when healthy in time, roll back at a start
past the deadline or after too many starts, never anything for a release not on trial."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.upgrade.plan import Trial, begin, on_healthy, on_start

T0 = 1_800_000_000_000


def test_a_healthy_release_within_the_deadline_is_committed() -> None:
    t = begin("0.1.0", "0.2.0", T0, deadline_ms=300_000)
    d = on_start(t, "0.2.0", T0 + 2_000)
    assert (d.release, d.switch, d.trial and d.trial.starts) == ("0.2.0", False, 1)
    h = on_healthy(d.trial, "0.2.0", T0 + 30_000)
    assert h.commit and not h.switch and h.trial is not None
    assert (h.trial.phase, h.trial.ended_ms) == ("committed", T0 + 30_000)
    assert "升级完成" in h.line and "0.2.0" in h.line
    # Committed: later starts and health reports change nothing.
    assert on_start(h.trial, "0.2.0", T0 + 900_000).trial == h.trial
    assert on_healthy(h.trial, "0.2.0", T0 + 900_000).trial == h.trial


def test_a_start_past_the_deadline_rolls_back() -> None:
    t = on_start(begin("0.1.0", "0.2.0", T0, deadline_ms=300_000), "0.2.0", T0).trial
    d = on_start(t, "0.2.0", T0 + 300_000)
    assert (d.release, d.switch, d.commit) == ("0.1.0", True, False)
    assert d.trial is not None and d.trial.phase == "rolled_back"
    assert d.trial.reason == "not healthy within 300 s"
    assert d.line.startswith("升级失败，已回滚 / upgrade to 0.2.0 rolled back to 0.1.0")


def test_too_many_starts_roll_back_before_the_deadline() -> None:
    t: Trial | None = begin("0.1.0", "0.2.0", T0, max_starts=3)
    for i in range(3):
        d = on_start(t, "0.2.0", T0 + i)
        assert d.release == "0.2.0" and not d.switch
        t = d.trial
    d = on_start(t, "0.2.0", T0 + 10)
    assert (d.release, d.switch) == ("0.1.0", True)
    assert d.trial is not None and d.trial.reason == "started 3 times without reporting healthy"


def test_healthy_only_after_the_deadline_is_a_rollback() -> None:
    t = begin("0.1.0", "0.2.0", T0, deadline_ms=60_000)
    h = on_healthy(t, "0.2.0", T0 + 60_000)
    assert (h.release, h.switch, h.commit) == ("0.1.0", True, False)
    assert h.trial is not None and h.trial.phase == "rolled_back"


def test_the_previous_release_reporting_healthy_changes_nothing() -> None:
    rolled = on_start(begin("0.1.0", "0.2.0", T0, max_starts=0), "0.2.0", T0).trial
    assert rolled is not None and rolled.phase == "rolled_back"
    assert on_healthy(rolled, "0.1.0", T0 + 5).trial == rolled
    assert on_start(rolled, "0.1.0", T0 + 5).trial == rolled
    assert on_start(None, "0.1.0", T0) .release == "0.1.0"


def test_state_file_round_trip_and_garbage() -> None:
    t = begin("0.1.0", "0.2.0+门店", T0)
    assert Trial.from_json(t.to_json()) == t
    for bad in ("[]", '{"phase": "installing"}', '{"phase": "trial", "x": 1}'):
        try:
            Trial.from_json(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


@given(st.lists(st.tuples(st.sampled_from(["start", "healthy"]),
                          st.integers(0, 600_000)), max_size=12),
       st.integers(0, 5), st.integers(1, 400_000))
def test_any_sequence_ends_committed_only_in_time_and_rolled_back_to_previous(
        events: list[tuple[str, int]], max_starts: int, deadline: int) -> None:
    trial: Trial | None = begin("A", "B", T0, deadline_ms=deadline, max_starts=max_starts)
    current = "B"
    now = T0
    for kind, step in events:
        now += step
        d = on_start(trial, current, now) if kind == "start" else on_healthy(trial, current, now)
        if d.switch:
            assert d.release == "A"
        current = d.release
        trial = d.trial
        assert trial is not None
        if trial.phase == "committed":
            assert trial.ended_ms is not None and trial.ended_ms < T0 + deadline
            assert current == "B"
        if trial.phase == "rolled_back":
            assert current == "A"
        if trial.phase == "trial":
            assert current == "B" and trial.starts <= max_starts
