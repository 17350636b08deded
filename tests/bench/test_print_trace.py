"""The cloud print trace: marks are written only when asked for, one line each, and the bench
reads them back into steps per job (sync/latency_trace.py, bench/print_trace.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.print_trace import CHAIN, Job, per_job, read_marks, report
from sync.latency_trace import ENV

ROOT = Path(__file__).resolve().parents[2]
MARK_TWICE = "from sync.latency_trace import mark; mark('box.intake'); mark('box.checked')"


def run_marks(env_value: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if env_value is not None:
        env[ENV] = env_value
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run([sys.executable, "-c", MARK_TWICE], env=env, check=True, timeout=60)


def test_marks_are_written_only_when_the_environment_names_a_file(tmp_path: Path) -> None:
    trace = tmp_path / "云打印.trace"
    run_marks(None)
    run_marks("")
    assert not trace.exists()
    run_marks(str(trace))
    lines = [line.split() for line in trace.read_text(encoding="ascii").splitlines()]
    assert [stage for _, _, stage in lines] == ["box.intake", "box.checked"]
    assert int(lines[0][0]) <= int(lines[1][0]) and lines[0][1] == lines[1][1]


def test_each_job_gets_its_steps_from_the_marks_after_it_was_sent(tmp_path: Path) -> None:
    trace = tmp_path / "trace"
    # Two jobs sent at 1000 s and 1001 s; HQ is pid 10, the box pid 20. The second job's marks
    # come with a stray box mark before its HQ marks, which must not be taken for its own.
    ns = 1_000_000_000
    chain = [(10 if role == "hq" else 20, stage) for role, stage, _ in CHAIN]
    lines = [f"{1000 * ns + (k + 1) * 1_000_000} {pid} {stage}"
             for k, (pid, stage) in enumerate(chain)]
    lines.append(f"{1001 * ns + 500_000} 20 box.checked")
    lines += [f"{1001 * ns + (k + 1) * 2_000_000} {pid} {stage}"
              for k, (pid, stage) in enumerate(chain)]
    trace.write_text("\n".join(reversed(lines)) + "\n", encoding="ascii")
    jobs = [Job(1000.0, 1000.0 + (len(chain) + 1) / 1000),
            Job(1001.0, 1001.0 + 2 * (len(chain) + 1) / 1000)]
    rows = per_job(read_marks(trace, {10: "hq", 20: "box"}), jobs)
    assert rows[0]["hq:hq.request"] == pytest.approx(1.0)
    assert rows[1]["hq:hq.request"] == pytest.approx(2.0)
    checked = [s for _, s in chain].index("box.checked")
    assert rows[1]["box:box.checked"] == pytest.approx(2.0 * checked + 2.0)
    assert rows[0]["printer"] == pytest.approx(len(chain) + 1)
    text = report(rows)
    assert "box: queue entry + claim committed" in text and "slowest jobs" in text
