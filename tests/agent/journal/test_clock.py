"""The clock guard: record times go back only with a clock_set saying so."""

from __future__ import annotations

from agent.journal.clock import ClockGuard, mono_ms, wall_ms

T = 1795914000000


def test_a_steady_clock_needs_no_clock_set() -> None:
    g = ClockGuard()
    assert g.stamp(T, 1000, T - 5) == (T, None)
    assert g.stamp(T + 500, 1500, T) == (T + 500, None)
    assert g.stamp(T + 2500, 3400, T + 500) == (T + 2500, None)  # 100 ms drift is fine


def test_a_clock_behind_the_last_record_is_recorded() -> None:
    time, body = ClockGuard().stamp(T - 90_000, 0, T)
    assert time == T - 90_000
    assert body == {"from": T, "to": T - 90_000, "reason": "backward_jump"}


def test_jumps_against_the_monotonic_clock_are_recorded_both_ways() -> None:
    g = ClockGuard(tolerance_ms=2000)
    g.stamp(T, 0, 0)
    time, body = g.stamp(T + 3_600_000, 1000, T)
    assert body == {"from": T + 1000, "to": T + 3_600_000, "reason": "forward_jump"}
    time, body = g.stamp(T + 3_000_000, 2000, T + 3_600_000)
    assert body is not None and body["reason"] == "backward_jump"
    assert body["to"] == time == T + 3_000_000
    time, body = g.stamp(T + 3_001_000, 3000, time)
    assert body is None


def test_the_real_clocks_are_milliseconds() -> None:
    assert wall_ms() > 1_600_000_000_000  # after 2020, in ms
    a = mono_ms()
    assert mono_ms() >= a
