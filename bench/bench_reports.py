"""HQ reports over a year of 100 stores (≈ 30 million sale lines): p50/p99 latency of each
report answered from the aggregate rows by HQ's own code (hq.reports.answers on an SQLite
store), beside a full scan of the raw sale lines answering the same question in the same run.

Generation is fast and entirely inside SQLite: a recursive CTE writes the raw sale-lines table
(integer columns, one row per line, each line counted as one order), then one `INSERT … SELECT
… GROUP BY` per cube fills `report_agg` from those very lines, so each report and its scan
must agree (checked on every run). Neither generation nor the GROUP BYs are timed.

    .venv/bin/python bench/bench_reports.py [--stores 100] [--days 365] [--lines 820]
        [--runs 100] [--scans 1] [--small] [--db PATH [--reuse]] [--json]

"The last 30 days" is seven windows, ending on each of the last seven days (so on every weekday,
each read as its own mix of month, week and day rows): the timed calls go round them, and the
scan answers (and checks) the last. `--small` (10 stores × 62 days × 20 lines) is what
tests/bench/ runs; `--db` keeps the file, and with `--reuse` a file kept by an earlier run with
the same sizes is read instead of generated.
The full run needs about 1 GiB of disk and takes 15-50 minutes on two cores, most of it the
full scans (a year's scan is over a minute on a loaded machine) and the generation.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import Row, add_json_flag, emit, pct
from hq.reports.answers import Scope, answer
from hq.reports.facts import MONTH_TO_DATE
from hq.reports.ranges import Range
from hq.store.sqlite import SqliteStore

YEAR0 = date(2026, 1, 1)
SKUS = 2000
CLERKS = 8
METHODS = ("cash", "wechat", "alipay", "card", "member", "credit")


def store_id(n: int) -> str:
    """The bench's store code for store number n."""
    return f"S{n:03d}"


def generate(path: Path, stores: int, days: int, lines: int) -> int:
    """Write the raw lines and the aggregate rows; how many lines."""
    SqliteStore(path).close()  # HQ's schema, migrated as HQ does
    total = stores * days * lines
    c = sqlite3.connect(path, isolation_level=None)
    with contextlib.closing(c):
        c.execute("PRAGMA journal_mode = OFF")
        c.execute("PRAGMA synchronous = OFF")
        c.execute("CREATE TABLE sale_lines (day INTEGER, store INTEGER, clerk INTEGER, "
                  "sku INTEGER, method INTEGER, qty INTEGER, amount INTEGER, cost INTEGER, "
                  "contact INTEGER)")
        per_day = stores * lines
        # Lines of day d, store s in order; sku, clerk, method, qty and price mixed from i.
        c.execute(f"""
            INSERT INTO sale_lines
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {total - 1})
            SELECT i / {per_day}, (i / {lines}) % {stores}, (i * 7) % {CLERKS},
                   (i * 2654435761) % {SKUS}, (i * 40503) % 6, 1 + (i * 97) % 5,
                   (1 + (i * 97) % 5) * (500 + ((i * 2654435761) % {SKUS}) * 3),
                   (1 + (i * 97) % 5) * (300 + ((i * 2654435761) % {SKUS}) * 2),
                   CASE WHEN i % 3 = 0 THEN (i * 7919) % {stores * CLERKS} ELSE -1 END
            FROM n""")
        day = f"date('{YEAR0.isoformat()}', '+' || day || ' days')"
        month = f"substr({day}, 1, 7)"
        sid = "printf('S%03d', store)"
        cid = "printf('C%d', clerk)"
        sums = "SUM(qty), SUM(amount), SUM(cost), COUNT(*)"
        cubes = [
            ("store", sid, "''", "day, store"),
            ("clerk", sid, cid, "day, store, clerk"),
            ("product", "''", "printf('P%04d', sku)", "day, sku"),
        ]
        for cube, st, key, group in cubes:
            c.execute(f"INSERT INTO report_agg SELECT '{cube}.d', {day}, {st}, {key}, {sums} "
                      f"FROM sale_lines GROUP BY {group}")
        methods = "CASE method " + " ".join(
            f"WHEN {i} THEN '{m}'" for i, m in enumerate(METHODS)) + " END"
        c.execute(f"INSERT INTO report_agg SELECT 'method.d', {day}, {sid}, {methods}, 0, "
                  "SUM(amount), 0, COUNT(*) FROM sale_lines GROUP BY day, store, method")
        c.execute(f"INSERT INTO report_agg SELECT 'credit.d', {day}, "
                  f"printf('S%03d', contact / {CLERKS}), printf('C%d', contact % {CLERKS}), "
                  f"{sums} FROM sale_lines WHERE contact >= 0 GROUP BY day, contact")
        c.execute("INSERT INTO report_agg SELECT 'total.d', period, '', '', SUM(qty), "
                  "SUM(amount), SUM(cost), SUM(n) FROM report_agg WHERE cube = 'store.d' "
                  "GROUP BY period")
        # Week (its Monday), month and year rows of every cube, from its day rows.
        for cube in ("store", "total", "clerk", "product", "method", "credit"):
            for grain, period in (("w", "date(period, '-6 days', 'weekday 1')"),
                                  ("m", "substr(period, 1, 7)"), ("y", "substr(period, 1, 4)")):
                c.execute(f"INSERT INTO report_agg SELECT '{cube}.{grain}', {period} AS p, "
                          "store, key, SUM(qty), SUM(amount), SUM(cost), SUM(n) FROM report_agg"
                          f" WHERE cube = '{cube}.d' GROUP BY p, store, key")
        c.execute(f"INSERT INTO report_agg SELECT 'product_store.m', {month} AS m, {sid}, "
                  f"printf('P%04d', sku), {sums} FROM sale_lines GROUP BY m, store, sku")
        month_to_date(c, days)
        c.execute("ANALYZE")
    return total


def month_to_date(c: sqlite3.Connection, days: int) -> None:
    """The month-to-date rows of the wide cubes from their day rows: for every day, each key's
    sum from the month's first day to that day, from its first day with a sale in the month on
    (the rows HQ's folding writes)."""
    last = (YEAR0 + timedelta(days=days - 1)).isoformat()
    for cube in MONTH_TO_DATE:
        c.execute(f"""
            INSERT INTO report_agg
            WITH RECURSIVE cal(day) AS (SELECT '{YEAR0.isoformat()}' UNION ALL
                                        SELECT date(day, '+1 day') FROM cal WHERE day < '{last}')
            SELECT '{cube}.c', cal.day, d.store, d.key, SUM(d.qty), SUM(d.amount), SUM(d.cost),
                   SUM(d.n)
            FROM cal JOIN report_agg d ON d.cube = '{cube}.d'
                 AND d.period >= substr(cal.day, 1, 8) || '01' AND d.period <= cal.day
            GROUP BY cal.day, d.store, d.key""")


def _dn(d: date) -> int:
    return (d - YEAR0).days


def scans(c: sqlite3.Connection, r: Range) -> dict[str, Callable[[], Any]]:
    """The full-scan answer to each report's question, by report name."""
    a, b = _dn(r.start), _dn(r.end)
    where = f"WHERE day BETWEEN {a} AND {b}"
    # A product report of some stores covers whole months (hq.reports.answers._products).
    months = r.whole_months()
    in_months = f"WHERE day BETWEEN {_dn(months.start)} AND {_dn(months.end)}"
    s = "SUM(qty), SUM(amount), SUM(cost), COUNT(*)"

    def q(sql: str) -> Callable[[], Any]:
        return lambda: c.execute(sql).fetchall()

    def compare() -> Any:
        out = []
        for rr in (r, r.shifted_days(-7), r.month_before()):
            out += c.execute(f"SELECT {s} FROM sale_lines WHERE day BETWEEN {_dn(rr.start)} "
                             f"AND {_dn(rr.end)}").fetchall()
        return out

    def clerks() -> Any:
        return (c.execute(f"SELECT store, clerk, {s} FROM sale_lines {where} "
                          "GROUP BY store, clerk").fetchall()
                + c.execute(f"SELECT contact, SUM(amount) FROM sale_lines {where} AND "
                            "contact >= 0 GROUP BY contact").fetchall())

    return {
        "sales by store": q(f"SELECT store, {s} FROM sale_lines {where} GROUP BY store"),
        "sales by region": q(f"SELECT store / 10, {s} FROM sale_lines {where} "
                             "GROUP BY store / 10"),
        "sales by clerk": q(f"SELECT store, clerk, {s} FROM sale_lines {where} "
                            "GROUP BY store, clerk"),
        "sales by day": q(f"SELECT day, {s} FROM sale_lines {where} GROUP BY day"),
        "sales by week": q(f"SELECT (day + 3) / 7, {s} FROM sale_lines {where} "
                           "GROUP BY (day + 3) / 7"),
        "sales by month": q(f"SELECT day / 31, {s} FROM sale_lines {where} GROUP BY day / 31"),
        "sales by product": q(f"SELECT sku, {s} FROM sale_lines {where} GROUP BY sku"),
        "top 10 products": q(f"SELECT sku, SUM(amount) AS a FROM sale_lines {where} "
                             "GROUP BY sku ORDER BY a DESC LIMIT 10"),
        "top 10 products, one store": q(
            f"SELECT sku, SUM(amount) AS a FROM sale_lines {in_months} AND store = 0 "
            "GROUP BY sku ORDER BY a DESC LIMIT 10"),
        "payment methods": q(f"SELECT method, SUM(amount), COUNT(*) FROM sale_lines {where} "
                             "GROUP BY method"),
        "week-over-week and month-over-month": compare,
        "clerks with first-contact credit": clerks,
    }


def reports(store: SqliteStore, stores: int, windows: list[Range]
            ) -> dict[str, Callable[[], Any]]:
    """HQ's answer to each report (hq.reports.answers), by report name: each call answers for
    the next of `windows` in turn, ending with the last."""
    every = Scope(None, {store_id(i): f"R{i // 10}" for i in range(stores)}, 0.3)
    one = Scope((store_id(0),), every.region_of, 0.3)

    def a(report: str, scope: Scope = every, **query: str) -> Callable[[], Any]:
        turn = iter(range(10**9))
        return lambda: answer(store, report, scope, windows[next(turn) % len(windows)], query)

    return {
        "sales by store": a("sales", by="store"),
        "sales by region": a("sales", by="region"),
        "sales by clerk": a("sales", by="clerk"),
        "sales by day": a("sales", by="day"),
        "sales by week": a("sales", by="week"),
        "sales by month": a("sales", by="month"),
        "sales by product": a("sales", by="product"),
        "top 10 products": a("top", limit="10"),
        "top 10 products, one store": a("top", one, limit="10"),
        "payment methods": a("methods"),
        "week-over-week and month-over-month": a("compare"),
        "clerks with first-contact credit": a("clerks"),
    }


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Milliseconds of each of `runs` calls, and the last answer."""
    out = []
    got = None
    for _ in range(runs):
        t = time.perf_counter()
        got = fn()
        out.append((time.perf_counter() - t) * 1000)
    return out, got


def check(name: str, got: Any, scanned: Any) -> None:
    """The report's amount total equals the scan's (the two answer the same question)."""
    if name == "week-over-week and month-over-month":
        want = [row[1] or 0 for row in scanned]
        have = [got[k]["amount"] for k in ("current", "week_before", "month_before")]
    elif name == "clerks with first-contact credit":
        n = sum(1 for row in scanned if len(row) == 6)
        want = [sum(row[3] for row in scanned[:n]), sum(row[1] for row in scanned[n:])]
        have = [sum(x["amount"] for x in got["rows"]),
                sum(x["contact_sales"] for x in got["rows"])]
    elif name.startswith("top"):
        want = [row[1] for row in scanned]
        have = [x["amount"] for x in got["rows"]]
    elif name == "payment methods":
        want = [sum(row[1] for row in scanned)]
        have = [got["total"]]
    else:
        want = [sum(row[-3] for row in scanned)]
        have = [got["total"]["amount"]]
    if want != have:
        raise SystemExit(f"{name}: the report says {have}, the scan {want}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stores", type=int, default=100)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--lines", type=int, default=820, help="sale lines per store and day")
    ap.add_argument("--runs", type=int, default=100, help="timed calls of each report")
    ap.add_argument("--scans", type=int, default=1, help="timed full scans of each question")
    ap.add_argument("--small", action="store_true", help="10 stores × 62 days × 20 lines")
    ap.add_argument("--db", help="keep the generated SQLite file here (else a temp dir)")
    ap.add_argument("--reuse", action="store_true",
                    help="read the file --db names, kept by an earlier run of the same sizes")
    add_json_flag(ap)
    args = ap.parse_args()
    if args.small:
        args.stores, args.days, args.lines, args.runs, args.scans = 10, 62, 20, 20, 2
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "reports.db"
        t = time.perf_counter()
        if args.reuse and args.db:
            n = args.stores * args.days * args.lines
            print(f"reusing {path}", flush=True)
        elif path.exists():
            raise SystemExit(f"{path} exists: give a new file (or --reuse it)")
        else:
            n = generate(path, args.stores, args.days, args.lines)
            print(f"generated {n:,} sale lines and their aggregates in "
                  f"{time.perf_counter() - t:.0f} s ({path.stat().st_size / 2**20:.0f} MiB)",
                  flush=True)
        end = YEAR0 + timedelta(days=args.days - 1)
        questions = [("the last 30 days", [Range(e - timedelta(days=29), e) for e in (
                         end - timedelta(days=k) for k in range(6, -1, -1))]),
                     ("the whole period", [Range(YEAR0, end)])]
        store = SqliteStore(path)
        raw = sqlite3.connect(path)
        rows = []
        try:
            for label, windows in questions:
                answers = reports(store, args.stores, windows)
                for name, scan in scans(raw, windows[-1]).items():
                    scan_ms, scanned = timed(scan, args.scans)
                    # Whole turns of the windows, so the last call answers the scanned one.
                    runs = -(-args.runs // len(windows)) * len(windows)
                    rep_ms, got = timed(answers[name], runs)
                    check(name, got, scanned)
                    p50, p99, s50 = pct(rep_ms, 50), pct(rep_ms, 99), pct(scan_ms, 50)
                    print(f"{name}, {label}: p50 {p50:.2f} ms, p99 {p99:.2f} ms; full scan "
                          f"{s50:.0f} ms ({s50 / p99:.0f}× the p99)", flush=True)
                    note = (f"{args.stores} stores × {args.days} days, {n:,} lines, SQLite; "
                            f"{runs} runs over {len(windows)} window(s); p50 {p50:.2f} ms")
                    rows.append(Row(f"report {name}, {label}, p99", p99, "ms",
                                    "full scan of the raw sale lines (p50)", s50,
                                    better="lower", note=note))
        finally:
            raw.close()
            store.close()
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
