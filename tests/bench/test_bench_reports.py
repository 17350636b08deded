"""The reports bench runs (small), checks every report against its full scan, and prints one
JSON row per report and range with the scan as its baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.run_all import parse_row

ROOT = Path(__file__).resolve().parents[2]


def test_the_small_reports_bench_prints_a_row_per_report_beside_its_scan() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_reports.py"), "--small",
                           "--json"], capture_output=True, text=True, timeout=600, check=False,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    rows = [r for r in (parse_row(line) for line in done.stdout.splitlines()) if r is not None]
    assert len(rows) == 24
    assert {r["baseline"] for r in rows} == {"full scan of the raw sale lines (p50)"}
    assert all(r["unit"] == "ms" and float(str(r["value"])) > 0
               and float(str(r["baseline_value"])) > 0 for r in rows)
    names = {r["name"] for r in rows}
    assert "report clerks with first-contact credit, the whole period, p99" in names
    assert "report top 10 products, one store, the last 30 days, p99" in names
