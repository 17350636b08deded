"""Birth/death: a late Will of an earlier session never marks a live box offline."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from sync.protocol.birth import (
    Liveness,
    link_lost_ms,
    next_bdseq,
    on_birth,
    on_death,
    presence,
    telemetry_gap,
    will_window_ms,
)
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


def test_the_will_window_is_the_documented_rule() -> None:
    # docs/protocol.md §1: 1.5 × keep-alive at the earliest, 2.5 × keep-alive + 1 s at the latest.
    assert will_window_ms(5) == (7_500, 13_500)
    assert will_window_ms(20) == (30_000, 51_000)
    assert will_window_ms(40) == (60_000, 101_000)


def test_presence_turns_silent_only_after_an_interval_plus_the_will_window() -> None:
    seen = 1_000_000
    assert presence(True, seen, 30, 20, seen + 81_000) == "online"
    assert presence(True, seen, 30, 20, seen + 81_001) == "silent"
    assert presence(False, seen, 30, 20, seen + 1) == "offline"
    assert presence(False, seen, 30, 20, seen + 10**9) == "offline"


def test_the_link_died_between_the_will_window_and_what_hq_last_heard() -> None:
    will_at = 10_000_000
    # Heard long before: the window alone bounds it (keep-alive 20 s: 51 s to 30 s before).
    assert link_lost_ms(will_at, 0, 20) == (will_at - 51_000, will_at - 30_000)
    # Heard 40 s before the Will: not before that.
    assert link_lost_ms(will_at, will_at - 40_000, 20) == (will_at - 40_000, will_at - 30_000)
    # Heard 10 s before (a telemetry that overtook a ping): both bounds are that moment.
    assert link_lost_ms(will_at, will_at - 10_000, 20) == (will_at - 10_000, will_at - 10_000)


@given(st.integers(0, 2**40), st.integers(0, 2**40), st.integers(5, 60))
def test_the_lost_window_is_ordered_and_never_before_the_last_message(
        will_at: int, seen: int, keepalive: int) -> None:
    lo, hi = link_lost_ms(will_at, seen, keepalive)
    assert seen <= lo <= hi
