"""Run every benchmark in bench/ with `--json`, print one table of all figures beside their
same-run baselines, and write it with the machine it ran on to docs/performance.md.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--no-write]

A bench is any bench/bench_*.py; each row it prints as a JSON object (bench/README.md) becomes a
line of the table, its other output is shown as it comes. A bench that fails or prints no rows
is listed under the table with its exit code; the others still count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REPORT = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin (written by make bench) -->", "<!-- bench:end -->"
TIMEOUT_S = 1800
REQUIRED = ("name", "value", "unit")


@dataclass
class BenchRun:
    """One bench's run: its rows, exit code and wall time."""

    script: str
    rows: list[dict[str, object]] = field(default_factory=list)
    rc: int = 0
    seconds: float = 0.0
    problem: str = ""


def parse_row(line: str) -> dict[str, object] | None:
    """A row if `line` is a JSON object with at least name, value and unit, else None."""
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not all(k in obj for k in REQUIRED):
        return None
    if not isinstance(obj["value"], int | float) or isinstance(obj["value"], bool):
        return None
    base = obj.get("baseline_value")
    if obj.get("ratio") is None and isinstance(base, int | float) and base:
        obj["ratio"] = float(obj["value"]) / float(base)
    return obj


ARGS = {"bench_reports.py": ("--small",)}
"""Options a bench runs with here: the full reports bench needs ≈ 1 GiB and 20–40 minutes
(docs/performance.md, "Reports over a year of 100 stores"); its small size is in the table."""


def run_bench(script: Path) -> BenchRun:
    """Run `script --json` (and its ARGS), echoing its free text and keeping its rows."""
    out = BenchRun(script.name)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(script), "--json", *ARGS.get(script.name, ())],
                            cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    tail: list[str] = []
    for line in proc.stdout:
        row = parse_row(line.strip())
        if row is not None:
            out.rows.append(row)
            continue
        print(f"  {line.rstrip()}", flush=True)
        tail = [*tail, line.rstrip()][-5:]
    try:
        out.rc = proc.wait(TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out.rc = proc.wait()
        out.problem = f"killed after {TIMEOUT_S} s"
    out.seconds = time.monotonic() - start
    if out.rc and not out.problem:
        out.problem = f"exit code {out.rc}: " + " / ".join(tail[-2:])
    elif not out.rows and not out.problem:
        out.problem = "no JSON rows (does it take --json? see bench/README.md)"
    return out


def _fmt(x: object) -> str:
    if not isinstance(x, int | float) or isinstance(x, bool):
        return "" if x is None else str(x)
    v = float(x)
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _ratio(row: dict[str, object]) -> str:
    r = row.get("ratio")
    if not isinstance(r, int | float):
        return ""
    return f"{r:.1%}" if r < 1 else f"× {r:,.2f}" if r < 100 else f"× {r:,.0f}"


def table(runs: list[BenchRun]) -> list[str]:
    """The figures as a Markdown table, bench by bench."""
    lines = ["| bench | figure | value | baseline (same run) | baseline value | ratio |",
             "|---|---|--:|---|--:|--:|"]
    for run in runs:
        bench = run.script.removeprefix("bench_").removesuffix(".py")
        for row in run.rows:
            unit = str(row["unit"])
            base_unit = str(row.get("baseline_unit") or unit)
            base = row.get("baseline")
            base_value = (f"{_fmt(row.get('baseline_value'))} {base_unit}"
                          if base is not None else "")
            note = f" — {row['note']}" if row.get("note") else ""
            lines.append(f"| {bench} | {row['name']}{note} | {_fmt(row['value'])} {unit} | "
                         f"{base or ''} | {base_value} | {_ratio(row)} |")
    return lines


def mosquitto_version() -> str:
    """The first line of `mosquitto -h`, or why there is none."""
    exe = "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else "mosquitto"
    try:
        out = subprocess.run([exe, "-h"], capture_output=True, text=True, check=False,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"not found ({e})"
    text = (out.stdout or out.stderr).strip()
    return text.splitlines()[0].removeprefix("mosquitto version ") if text else "unknown"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> list[str]:
    """Where the figures were measured."""
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return [f"- CPU: {cpu_model()}, {os.cpu_count()} cores ({platform.machine()})",
            f"- kernel: {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"mosquitto {mosquitto_version()}",
            f"- load average when the run began: {load}"]


def report(runs: list[BenchRun], host: list[str], started: datetime, seconds: float
           ) -> list[str]:
    """The generated block of docs/performance.md (between the markers)."""
    out = [BEGIN, "", f"Run of {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min in all, on:",
           "", *host, "", *table(runs), ""]
    failed = [r for r in runs if r.problem]
    if failed:
        out += ["Benches without figures in this run:", ""]
        out += [f"- `{r.script}`: {r.problem}" for r in failed]
        out.append("")
    out.append(END)
    return out


def write_report(block: list[str], path: Path = REPORT) -> None:
    """Replace the generated block of `path`, keeping what is written around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(head + "\n".join(block) + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Run the benches; exit 1 if any failed (the report is written all the same)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=[],
                    help="run only benches whose file name contains one of these")
    ap.add_argument("--no-write", action="store_true", help="do not touch docs/performance.md")
    args = ap.parse_args(argv)
    scripts = [s for s in sorted(HERE.glob("bench_*.py"))
               if not args.only or any(o in s.name for o in args.only)]
    host = machine()
    started = datetime.now(UTC)
    t0 = time.monotonic()
    runs = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        runs.append(run_bench(script))
    block = report(runs, host, started, time.monotonic() - t0)
    print("\n" + "\n".join(block[1:-1]))
    if not args.no_write:
        write_report(block)
        print(f"\nwritten to {REPORT.relative_to(ROOT)}")
    return 1 if any(r.rc for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
