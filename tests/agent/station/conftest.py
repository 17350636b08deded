"""Fixtures for the workshop station: a box with a journal, workers and a simulated TSPL printer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config, parse_config
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.shells import TcpShell
from tests.agent.sales.conftest import BADGE_HASH, PIN_HASH, journals_verify

__all__ = ["journals_verify"]

DATA = Path(__file__).resolve().parents[3] / "examples" / "data" / "production-tasks.json"
TASKS: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
HINGES: dict[str, Any] = next(t for t in TASKS if t["task_no"] == "SC-20261129-001")
"""The hinge task of examples/data/production-tasks.json (1,000 in containers of 80)."""


def station_config(state_dir: Path, label_port: int | None, **extra: Any) -> Config:
    """A workshop box: supervisor M001, workers W001–W003 with badges, a TSPL label printer."""
    raw: dict[str, Any] = {
        "box": {"id": "CQ-WS-001-B1", "store": "CQ-WS-001", "name": "重庆五金加工车间",
                "state_dir": str(state_dir)},
        "queue": {"poll_interval_s": 0.2, "backoff_max_s": 1.0},
        "printers": [] if label_port is None else [
            {"id": "workshop", "name": "车间标签机", "profile": "tspl-203", "transport": "tcp",
             "host": "127.0.0.1", "port": label_port, "connect_timeout": 1.0,
             "write_timeout": 5.0}],
        "journal": {"supervisors": [{"id": "M001", "name": "刘强", "pin_hash": PIN_HASH,
                                     "badge_hash": BADGE_HASH}],
                    "workers": [{"id": f"W00{i}", "name": n, "badge": f"BADGE-W00{i}"}
                                for i, n in ((1, "赵大勇"), (2, "钱小红"), (3, "孙建国"))]},
        **extra}
    return parse_config(raw)


@pytest.fixture
def tspl() -> Iterator[tuple[SimTsplPrinter, TcpShell]]:
    """A simulated TSPL label printer (203 dpi) on a free port."""
    model = SimTsplPrinter(get_profile("tspl-203"), "ok")
    shell = TcpShell(model)
    shell.start()
    yield model, shell
    shell.stop()
