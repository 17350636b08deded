"""The one back-off formula (reconnects to the broker, printer and scanner retries): values,
bounds and the cap, with seeded draws and Hypothesis properties."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.backoff import MAX_DOUBLINGS, backoff_delay

units = st.floats(min_value=0.0, max_value=1.0)
bases = st.floats(min_value=0.001, max_value=60.0)
caps = st.floats(min_value=0.001, max_value=3600.0)


@pytest.mark.parametrize(("attempt", "unit", "expected"), [
    (0, 0.0, 0.5), (0, 1.0, 1.0), (0, 0.5, 0.75),
    (1, 0.0, 1.0), (3, 1.0, 8.0), (4, 0.25, 10.0),
    (5, 0.0, 15.0), (5, 1.0, 30.0), (6, 0.5, 22.5), (10_000, 1.0, 30.0),
])
def test_values_of_equal_jitter(attempt: int, unit: float, expected: float) -> None:
    assert backoff_delay(attempt, 1.0, 30.0, unit) == expected


def test_the_broker_reconnect_schedule_is_jittered_and_capped() -> None:
    rng = random.Random(7)
    delays = [backoff_delay(a, 1.0, 30.0, rng.random()) for a in range(12)]
    assert 0.5 <= delays[0] <= 1.0
    assert all(15.0 <= d <= 30.0 for d in delays[6:])
    assert len({round(d, 6) for d in delays[6:]}) == 6  # not all the same: jittered
    assert backoff_delay(10_000, 1.0, 30.0, rng.random()) <= 30.0


def test_the_device_retry_schedule_is_jittered_exponential_and_capped() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        d = [backoff_delay(attempt, 0.5, 30.0, rng.random()) for _ in range(50)]
        assert all(ceiling / 2 <= x <= ceiling for x in d)
        assert len(set(d)) > 1
    assert backoff_delay(10_000, 0.5, 30.0, rng.random()) <= 30.0


def test_the_doubling_stops_before_floats_overflow() -> None:
    assert backoff_delay(10**9, 1e-9, float("inf"), 1.0) == 1e-9 * 2.0**MAX_DOUBLINGS


@given(st.integers(min_value=0, max_value=10_000), bases, caps, units)
def test_the_delay_lies_in_the_upper_half_of_the_capped_step(attempt: int, base: float,
                                                              cap: float, unit: float) -> None:
    step = min(cap, base * 2.0 ** min(attempt, MAX_DOUBLINGS))
    assert step / 2 <= backoff_delay(attempt, base, cap, unit) <= step <= cap


@given(st.integers(min_value=0, max_value=100), bases, caps, units)
def test_for_one_draw_the_delay_never_shrinks_and_reaches_the_cap(attempt: int, base: float,
                                                                  cap: float, unit: float) -> None:
    now, later = (backoff_delay(a, base, cap, unit) for a in (attempt, attempt + 1))
    assert now <= later <= cap
    assert backoff_delay(10_000, base, cap, unit) == cap / 2 + unit * (cap / 2)


@given(st.integers(min_value=0, max_value=100), bases, caps, units, units)
def test_a_larger_draw_never_gives_a_shorter_delay(attempt: int, base: float, cap: float,
                                                   u: float, v: float) -> None:
    lo, hi = sorted((u, v))
    assert backoff_delay(attempt, base, cap, lo) <= backoff_delay(attempt, base, cap, hi)
