"""Birth/death: a late Will of an earlier session never marks a live box offline."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.birth import Liveness, next_bdseq, on_birth, on_death, telemetry_gap
from sync.protocol.messages import Birth, Death, JournalPosition


def birth(n: int) -> Birth:
    return Birth("b1", n, 0, "0.1.0", "s", (), JournalPosition(0, 0), 30)


def test_birth_then_death_then_rebirth() -> None:
    s = Liveness("b1")
    s, v = on_birth(s, birth(1), 10)
    assert v == "online" and s.online
    s, v = on_death(s, Death("b1", 1), 20)
    assert v == "offline" and not s.online and s.changed_ms == 20
    s, v = on_birth(s, birth(2), 30)
    assert v == "online" and s.online


def test_a_late_will_after_a_fast_reconnect_is_stale() -> None:
    s, _ = on_birth(Liveness("b1"), birth(1), 0)
    s, _ = on_birth(s, birth(2), 5)  # reconnected before the broker gave up on session 1
    s, v = on_death(s, Death("b1", 1), 9)  # session 1's Will, late
    assert v == "stale" and s.online


def test_retained_birth_and_death_in_either_order_agree() -> None:
    items: list[Birth | Death] = [birth(3), Death("b1", 2), Death("b1", 3), birth(2)]
    for msgs in itertools.permutations(items):
        s = Liveness("b1")
        for m in msgs:
            s, _ = on_birth(s, m, 0) if isinstance(m, Birth) else on_death(s, m, 0)
        assert not s.online and s.death_bdseq == 3


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), max_size=12))
def test_online_iff_newest_birth_is_newer_than_every_death(ops: list[tuple[bool, int]]) -> None:
    s = Liveness("b1")
    for is_birth, n in ops:
        s, _ = on_birth(s, birth(n), 0) if is_birth else on_death(s, Death("b1", n), 0)
    births = [n for b, n in ops if b]
    deaths = [n for b, n in ops if not b]
    want = bool(births) and max(births) > max(deaths, default=-1)
    assert s.online == want


def test_bdseq_counts_up_even_after_a_wipe() -> None:
    assert next_bdseq(5, 1000) == 1000
    assert next_bdseq(2000, 1000) == 2001
    assert next_bdseq(0, 0) == 1


def test_telemetry_gaps() -> None:
    assert telemetry_gap(None, 1, 1) == 0
    assert telemetry_gap((1, 4), 1, 5) == 0
    assert telemetry_gap((1, 4), 1, 8) == 3
    assert telemetry_gap((1, 4), 1, 4) == -1
    assert telemetry_gap((1, 9), 2, 1) == 0
    assert telemetry_gap((2, 9), 1, 50) == -1
