"""The bench collector: rows read from a bench's stdout, one table, the report's block replaced
and the text around it kept."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.rows import Row
from bench.run_all import (
    BEGIN,
    END,
    HERE,
    BenchRun,
    parse_row,
    report,
    run_bench,
    table,
    write_report,
)


def test_a_row_is_a_json_object_with_name_value_and_unit() -> None:
    line = json.dumps(Row("日结报表延迟", 12.5, "ms", "raw append", 2.5, better="lower").to_obj(),
                      ensure_ascii=False)
    row = parse_row(line)
    assert row is not None and row["name"] == "日结报表延迟" and row["ratio"] == 5.0
    assert parse_row('{"name": "x", "value": 3, "unit": "s", "baseline": "b", '
                     '"baseline_value": 2}') == {"name": "x", "value": 3, "unit": "s",
                                                 "baseline": "b", "baseline_value": 2,
                                                 "ratio": 1.5}
    for text in ("append, 1 writer: 412 records/s", '{"name": "x", "unit": "s"}',
                 '{"name": "x", "value": "fast", "unit": "s"}', "{not json", "[1, 2]",
                 '{"name": "x", "value": true, "unit": "s"}'):
        assert parse_row(text) is None, text


def test_a_bench_script_is_run_with_json_and_its_rows_collected(tmp_path: Path) -> None:
    script = tmp_path / "bench_fake.py"
    script.write_text("import json, sys\n"
                      "assert sys.argv[1:] == ['--json'], sys.argv\n"
                      "print('free text: 重庆江北')\n"
                      "print(json.dumps({'name': '云打印 p50', 'value': 9.5, 'unit': 'ms', "
                      "'baseline': 'broker', 'baseline_value': 0.5}))\n", encoding="utf-8")
    run = run_bench(script)
    assert run.rc == 0 and not run.problem
    assert [r["name"] for r in run.rows] == ["云打印 p50"] and run.rows[0]["ratio"] == 19.0
    failing = tmp_path / "bench_broken.py"
    failing.write_text("import sys\nprint('no rows here')\nsys.exit(3)\n", encoding="utf-8")
    bad = run_bench(failing)
    assert bad.rc == 3 and bad.rows == [] and "exit code 3" in bad.problem


def test_the_table_and_the_report_block(tmp_path: Path) -> None:
    runs = [BenchRun("bench_sync.py", rows=[Row("cloud print p99", 42.0, "ms",
                                                  "broker one-way p99", 1.4, better="lower")
                                              .to_obj()]),
            BenchRun("bench_idle_rss.py", rc=1, problem="exit code 1: boom")]
    lines = table(runs)
    assert lines[2] == ("| sync | cloud print p99 | 42.0 ms | broker one-way p99 | 1.40 ms "
                        "| × 30.00 |")
    doc = tmp_path / "performance.md"
    doc.write_text(f"# 性能\n\nBefore.\n\n{BEGIN}\nold figures\n{END}\n\nAfter: the trace.\n",
                   encoding="utf-8")
    block = report(runs, ["- CPU: test"], datetime(2026, 12, 7, 9, 0, tzinfo=UTC), 600.0)
    write_report(block, doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# 性能\n\nBefore.\n\n" + BEGIN)
    assert text.endswith(END + "\n\nAfter: the trace.\n")
    assert "old figures" not in text and "- CPU: test" in text
    assert "`bench_idle_rss.py`: exit code 1: boom" in text
    fresh = tmp_path / "new.md"
    write_report(block, fresh)
    assert BEGIN in fresh.read_text(encoding="utf-8")


def test_every_bench_takes_json() -> None:
    # make bench runs each bench with --json; one that refuses it gives no rows and its figures
    # are missing from the report (bench_hq_workers and bench_idle_rss did, until 2026-12-07).
    for script in sorted(HERE.glob("bench_*.py")):
        done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0 and "--json" in done.stdout, script.name
