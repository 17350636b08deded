"""The demo's script finds the example jobs and the project root from its own room."""

from __future__ import annotations

import re
from pathlib import Path

from agent.demo import run, script, world


def test_the_demo_runs_from_the_project_root() -> None:
    for root in (run.ROOT, world.ROOT):
        assert (root / "pyproject.toml").is_file()
        assert (root / "agent" / "demo").is_dir()


def test_every_example_job_the_script_names_loads() -> None:
    source = Path(script.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r'\bjob\("(\w+)"', source))
    assert names >= {"receipt", "picking_list"}
    for name in sorted(names):
        body = script.job(name, id=f"t-{name}")
        assert body["id"] == f"t-{name}"
