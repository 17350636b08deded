"""The chaos schedule and its bad messages are bounded and reproducible from the seed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.chaos.garbage import OVERSIZED, garbage
from tests.chaos.schedule import BUDGET, LENGTH_S, fault_schedule


@given(st.integers(min_value=0, max_value=2**31), st.floats(min_value=5.0, max_value=600.0))
def test_a_seed_gives_one_bounded_schedule(seed: int, window_s: float) -> None:
    faults = fault_schedule(seed, window_s)
    assert faults == fault_schedule(seed, window_s)
    assert {k: sum(f.kind == k for f in faults) for k in BUDGET} == BUDGET
    assert [f.at_s for f in faults] == sorted(f.at_s for f in faults)
    for f in faults:
        assert 3.0 <= f.at_s <= window_s
        lo, hi = LENGTH_S[f.kind]
        assert lo <= f.length_s <= hi


def test_the_bad_messages_of_a_seed_are_the_same_every_time() -> None:
    boxes = ["CA-0001", "CB-0002"]
    first = garbage(7, boxes, 40)
    assert first == garbage(7, boxes, 40)
    assert len(first) == 40
    assert all(t.startswith("storelink/v1/box/") for t, _ in first)
    assert any(len(p) > OVERSIZED for _, p in first)
    assert first != garbage(8, boxes, 40)
