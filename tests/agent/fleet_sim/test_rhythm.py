"""The fleet simulator's rhythm: seeded schedules and valid record bodies (pure)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.fleet_sim.rhythm import Rhythm, handover_body, print_job, sale_body, schedule
from sync.journal.schema import validate_body
from sync.protocol.print_job import parse_dispatched

rates = st.floats(0, 200, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 999), rates, rates, rates, rates,
       st.floats(1, 600, allow_nan=False))
def test_schedules_are_seeded_ordered_and_within_the_run(
        seed: int, index: int, sales: float, handovers: float, prints: float, offline: float,
        speed: float) -> None:
    r = Rhythm(sales, handovers, prints, 1.0, offline, 60.0, speed)
    acts = schedule(seed, index, r, 20.0)
    assert acts == schedule(seed, index, r, 20.0)
    assert [a.at_s for a in acts] == sorted(a.at_s for a in acts)
    assert all(0 <= a.at_s < 20.0 for a in acts)
    assert all(a.length_s == pytest.approx(60.0 / speed) for a in acts if a.kind == "offline")


def test_rates_are_per_simulated_hour() -> None:
    # 3600 sales per simulated hour at speed 10: about 10 a second, 2000 in 200 s.
    acts = schedule(1, 0, Rhythm(3600, 0, 0, 0, 0, 0, 10), 200.0)
    assert {a.kind for a in acts} == {"sale"} and 1800 < len(acts) < 2200
    closes = schedule(1, 0, Rhythm(0, 0, 0, 1.0, 0, 0, 360), 100.0)
    assert [a.kind for a in closes] == ["day_close"] * 10


def test_another_box_or_seed_trades_differently() -> None:
    r = Rhythm(speed=600)
    assert schedule(1, 0, r, 30) != schedule(1, 1, r, 30) != schedule(2, 0, r, 30)


def test_bad_rhythms_are_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        Rhythm(speed=0)
    with pytest.raises(ValueError, match="sales_per_hour"):
        Rhythm(sales_per_hour=float("nan"))


@given(st.integers(0, 2**32), st.integers(1, 999_999))
def test_bodies_are_valid_records_and_jobs_valid_envelopes(seed: int, n: int) -> None:
    rng = random.Random(seed)
    validate_body("sale", sale_body(rng, n), n)
    validate_body("handover", handover_body(rng, "SIM-0001-RW-1"), n)
    job = print_job("SIM-0001", n)
    assert parse_dispatched(job["job"]).id == f"SIM-0001-job-{n:05d}"
    assert "取货单" in str(job)
