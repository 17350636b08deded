"""Date ranges of a report: the query's checked `from`/`to`, and how a range is read from the
aggregates (whole months from the month rows, the days around them from the day rows)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from hq import HqError

MAX_DAYS = 366
"""Longest range one report covers."""
DEFAULT_DAYS = 30


class ReportError(HqError):
    """A report request was refused: HTTP `status`, `field` the query parameter at fault."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Range:
    """Days `start` … `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the range covers."""
        return (self.end - self.start).days + 1

    def shifted_days(self, n: int) -> Range:
        """The range `n` days later (earlier for negative `n`)."""
        return Range(self.start + timedelta(days=n), self.end + timedelta(days=n))

    def month_before(self) -> Range:
        """The same days one month earlier (a day past the month's end is its last day)."""
        return Range(_month_back(self.start), _month_back(self.end))

    def whole_months(self) -> Range:
        """The range widened to whole months."""
        last = calendar.monthrange(self.end.year, self.end.month)[1]
        return Range(self.start.replace(day=1), self.end.replace(day=last))

    def to_json(self) -> dict[str, str]:
        """`{"from", "to"}` as ISO dates."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def _month_back(d: date) -> date:
    y, m = (d.year, d.month - 1) if d.month > 1 else (d.year - 1, 12)
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _day(query: Mapping[str, str], name: str) -> date | None:
    text = query.get(name)
    if text is None or text == "":
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ReportError(400, name, f"must be a date YYYY-MM-DD, got {text[:40]!r}") from None


def parse_range(query: Mapping[str, str], today: date) -> Range:
    """`from` and `to` of a query (defaults: the 30 days ending `to`, `to` defaulting to
    today); ReportError naming the parameter when a date is malformed, `to` is before `from`,
    or the range is longer than MAX_DAYS."""
    end = _day(query, "to") or today
    start = _day(query, "from") or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise ReportError(400, "to", f"must not be before from ({start.isoformat()})")
    if (end - start).days + 1 > MAX_DAYS:
        raise ReportError(400, "to", f"a report covers at most {MAX_DAYS} days, this range "
                          f"has {(end - start).days + 1}")
    return Range(start, end)


def split(r: Range) -> list[tuple[str, str, str]]:
    """The (grain, first, last period) parts that together cover `r` exactly once: whole
    months (`m`, YYYY-MM), then in what is left at either end whole ISO weeks (`w`, their
    Mondays) and single days (`d`) — so any range reads at most about 12 day, 8 week and 13
    month rows per key."""
    first_whole = r.start if r.start.day == 1 else (
        r.start.replace(day=1) + timedelta(days=32)).replace(day=1)
    past_whole = _past_whole(r.end)
    if first_whole >= past_whole:
        return weeks_and_days(r.start, r.end)
    parts = [("m", first_whole.isoformat()[:7], (past_whole - timedelta(days=1)).isoformat()[:7])]
    if r.start < first_whole:
        parts += weeks_and_days(r.start, first_whole - timedelta(days=1))
    if past_whole <= r.end:
        parts += weeks_and_days(past_whole, r.end)
    return parts


def weeks_and_days(a: date, b: date) -> list[tuple[str, str, str]]:
    """Whole ISO weeks (`w`, their Mondays) within a … b and the days (`d`) around them."""
    monday = a + timedelta(days=-a.weekday() % 7)
    last_monday = b - timedelta(days=(b.weekday() + 1) % 7 + 6)
    if monday > last_monday:
        return [("d", a.isoformat(), b.isoformat())]
    parts = [("w", monday.isoformat(), last_monday.isoformat())]
    if a < monday:
        parts.append(("d", a.isoformat(), (monday - timedelta(days=1)).isoformat()))
    if last_monday + timedelta(days=6) < b:
        parts.append(("d", (last_monday + timedelta(days=7)).isoformat(), b.isoformat()))
    return parts


def week_of(day: str) -> str:
    """The Monday (ISO date) of the week holding `day`."""
    d = date.fromisoformat(day)
    return (d - timedelta(days=d.weekday())).isoformat()


Term = tuple[str, str, str, int]
"""(grain, first, last period, sign): periods first … last of one grain (`d` day, `w` ISO week,
`m` month, `y` year, `c` month-to-date day), added (+1) or subtracted (-1)."""


def cover(r: Range, month_to_date: bool = False) -> list[Term]:
    """Signed parts that together count every day of `r` exactly once and read as few rows per
    key as the calendar allows: besides adding months, weeks and days as `split` does, a month
    or ISO week mostly inside the range is read whole and the days outside it subtracted (Dec
    2–31 is December minus Dec 1: 2 rows per key instead of 12); with `month_to_date` rows
    (grain `c`) the partial months at either end are two of those."""
    ways = [_weekly(r.start, r.end), _monthly(r)]
    if month_to_date:
        ways.append(_to_date(r))
    return min(ways, key=rows_per_key)


def _to_date(r: Range) -> list[Term]:
    """`r` as whole months and month-to-date rows: [a, b] is c(b) - c(a - 1) within a month,
    and the month of a less c(a - 1), the months between, and c(b) across months."""
    before = r.start - timedelta(days=1)
    less: list[Term] = ([] if r.start.day == 1 else
                        [("c", before.isoformat(), before.isoformat(), -1)])
    if (r.start.year, r.start.month) == (r.end.year, r.end.month):
        return [("c", r.end.isoformat(), r.end.isoformat(), 1), *less]
    past_whole = _past_whole(r.end)
    terms = [*_months(r.start.isoformat()[:7], (past_whole - timedelta(days=1)).isoformat()[:7]),
             *less]
    if past_whole <= r.end:
        terms.append(("c", r.end.isoformat(), r.end.isoformat(), 1))
    return terms


def _monthly(r: Range) -> list[Term]:
    """`r` as whole months and, at either end, what `_in_month` makes of the partial month."""
    if (r.start.year, r.start.month) == (r.end.year, r.end.month):
        return _in_month(r.start, r.end)
    first_whole = r.start if r.start.day == 1 else _next_month(r.start)
    past_whole = _past_whole(r.end)
    monthly: list[Term] = []
    if r.start < first_whole:
        monthly += _in_month(r.start, first_whole - timedelta(days=1))
    if first_whole < past_whole:
        monthly += _months(first_whole.isoformat()[:7],
                           (past_whole - timedelta(days=1)).isoformat()[:7])
    if past_whole <= r.end:
        monthly += _in_month(past_whole, r.end)
    return monthly


def rows_per_key(terms: list[Term]) -> int:
    """How many periods (aggregate rows of one key) the terms read."""
    n = 0
    for grain, a, b, _ in terms:
        if grain == "y":
            n += int(b) - int(a) + 1
        elif grain == "m":
            n += (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7]) + 1
        else:
            days = (date.fromisoformat(b) - date.fromisoformat(a)).days
            n += days // 7 + 1 if grain == "w" else days + 1
    return n


def _months(first: str, last: str) -> list[Term]:
    """Months first … last (YYYY-MM): per year, the months, or the year less the months
    outside them when that reads fewer rows."""
    terms: list[Term] = []
    for year in range(int(first[:4]), int(last[:4]) + 1):
        a = max(first, f"{year}-01")
        b = min(last, f"{year}-12")
        k = int(b[5:7]) - int(a[5:7]) + 1
        if 1 + 12 - k < k:
            terms.append(("y", str(year), str(year), 1))
            if a > f"{year}-01":
                terms.append(("m", f"{year}-01", f"{year}-{int(a[5:7]) - 1:02d}", -1))
            if b < f"{year}-12":
                terms.append(("m", f"{year}-{int(b[5:7]) + 1:02d}", f"{year}-12", -1))
        else:
            terms.append(("m", a, b, 1))
    return terms


def _past_whole(end: date) -> date:
    """The day after the last whole month ending on or before `end`."""
    return (end + timedelta(days=1)).replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_end(d: date) -> date:
    return _next_month(d) - timedelta(days=1)


def _neg(terms: list[Term]) -> list[Term]:
    return [(g, a, b, -s) for g, a, b, s in terms]


def _days(a: date, b: date) -> list[Term]:
    return [("d", a.isoformat(), b.isoformat(), 1)] if a <= b else []


def _day_run(a: date, b: date) -> list[Term]:
    """Days a … b of one ISO week: the days, or the week less the days outside (5+ days)."""
    if (b - a).days + 1 < 5:
        return _days(a, b)
    monday = a - timedelta(days=a.weekday())
    return [("w", monday.isoformat(), monday.isoformat(), 1),
            *_neg(_days(monday, a - timedelta(days=1))),
            *_neg(_days(b + timedelta(days=1), monday + timedelta(days=6)))]


def _weekly(a: date, b: date) -> list[Term]:
    """Days a … b as whole ISO weeks and the day runs around them."""
    monday = a + timedelta(days=-a.weekday() % 7)
    last_monday = b - timedelta(days=(b.weekday() + 1) % 7 + 6)
    if monday > last_monday:
        if monday > b:
            return _day_run(a, b)
        return _day_run(a, monday - timedelta(days=1)) + _day_run(monday, b)
    terms: list[Term] = [("w", monday.isoformat(), last_monday.isoformat(), 1)]
    if a < monday:
        terms += _day_run(a, monday - timedelta(days=1))
    if last_monday + timedelta(days=6) < b:
        terms += _day_run(last_monday + timedelta(days=7), b)
    return terms


def _in_month(a: date, b: date) -> list[Term]:
    """Days a … b of one month: by weeks and days, or the month less the days outside."""
    first, last = a.replace(day=1), _month_end(a)
    whole: list[Term] = [("m", a.isoformat()[:7], a.isoformat()[:7], 1)]
    if a == first and b == last:
        return whole
    less = whole
    if first < a:
        less = less + _neg(_weekly(first, a - timedelta(days=1)))
    if b < last:
        less = less + _neg(_weekly(b + timedelta(days=1), last))
    return min((_weekly(a, b), less), key=rows_per_key)
