"""Report ranges: the query's dates are checked naming the parameter, and any range is covered
exactly once by the month, week and day rows it reads."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hq.reports.ranges import Range, ReportError, cover, parse_range, rows_per_key, split

TODAY = date(2026, 12, 7)


def days_of(grain: str, first: str, last: str) -> list[date]:
    if grain == "d":
        a, b = date.fromisoformat(first), date.fromisoformat(last)
    elif grain == "y":
        a, b = date(int(first), 1, 1), date(int(last), 12, 31)
    elif grain == "c":  # month-to-date: the month's first day to the day
        assert first == last
        b = date.fromisoformat(last)
        a = b.replace(day=1)
    elif grain == "w":
        a, b = date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=6)
        assert a.weekday() == 0 and date.fromisoformat(last).weekday() == 0
    else:
        a = date.fromisoformat(first + "-01")
        end = date.fromisoformat(last + "-01")
        b = (end + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


@given(start=st.dates(date(2024, 1, 1), date(2027, 12, 31)), length=st.integers(1, 366))
def test_the_parts_cover_every_day_of_the_range_once(start: date, length: int) -> None:
    r = Range(start, start + timedelta(days=length - 1))
    parts = split(r)
    covered = [d for part in parts for d in days_of(*part)]
    assert sorted(covered) == [start + timedelta(days=i) for i in range(length)]
    assert sum(1 for g, _, _ in parts if g == "d") <= 4
    assert sum(len(days_of(g, a, b)) for g, a, b in parts if g == "d") <= 24


@given(start=st.dates(date(2024, 1, 1), date(2027, 12, 31)), length=st.integers(1, 366),
       to_date=st.booleans())
def test_the_signed_parts_count_every_day_once_and_read_fewer_rows(start: date, length: int,
                                                                   to_date: bool) -> None:
    r = Range(start, start + timedelta(days=length - 1))
    terms = cover(r, to_date)
    counted: Counter[date] = Counter()
    for grain, a, b, sign in terms:
        for d in days_of(grain, a, b):
            counted[d] += sign
    assert {d: n for d, n in counted.items() if n} == {
        start + timedelta(days=i): 1 for i in range(length)}
    assert rows_per_key(terms) <= rows_per_key([(g, a, b, 1) for g, a, b in split(r)])
    assert rows_per_key(terms) <= (11 if length <= 31 else 27)
    if to_date:
        assert rows_per_key(terms) <= (4 if length <= 31 else 14)


def test_a_month_less_a_day_is_two_rows() -> None:
    assert cover(Range(date(2026, 12, 2), date(2026, 12, 31))) == [
        ("m", "2026-12", "2026-12", 1), ("d", "2026-12-01", "2026-12-01", -1)]
    assert cover(Range(date(2026, 1, 1), date(2026, 12, 31))) == [("y", "2026", "2026", 1)]
    assert cover(Range(date(2026, 2, 1), date(2026, 12, 31))) == [
        ("y", "2026", "2026", 1), ("m", "2026-01", "2026-01", -1)]


def test_with_month_to_date_rows_any_30_days_are_three_rows() -> None:
    assert cover(Range(date(2026, 11, 8), date(2026, 12, 7)), month_to_date=True) == [
        ("m", "2026-11", "2026-11", 1), ("c", "2026-11-07", "2026-11-07", -1),
        ("c", "2026-12-07", "2026-12-07", 1)]
    assert cover(Range(date(2026, 12, 2), date(2026, 12, 20)), month_to_date=True) == [
        ("c", "2026-12-20", "2026-12-20", 1), ("c", "2026-12-01", "2026-12-01", -1)]


def test_defaults_are_the_30_days_to_today() -> None:
    assert parse_range({}, TODAY) == Range(date(2026, 11, 8), TODAY)
    assert parse_range({"to": "2026-02-28"}, TODAY).start == date(2026, 1, 30)


@pytest.mark.parametrize(("query", "field", "reason"), [
    ({"from": "2026-13-01"}, "from", "YYYY-MM-DD"),
    ({"from": "2026-1-1"}, "from", "YYYY-MM-DD"),
    ({"to": "昨天"}, "to", "YYYY-MM-DD"),
    ({"from": "2026-12-08", "to": "2026-12-07"}, "to", "before from"),
    ({"from": "2025-01-01", "to": "2026-12-07"}, "to", "at most 366 days"),
])
def test_bad_dates_and_long_ranges_name_the_parameter(query: dict[str, str], field: str,
                                                      reason: str) -> None:
    with pytest.raises(ReportError) as e:
        parse_range(query, TODAY)
    assert (e.value.status, e.value.field) == (400, field)
    assert reason in e.value.reason
