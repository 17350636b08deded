"""The chaos suite's fault schedule (pure: a seed in, a list of faults out, no I/O, no clock).

Faults are bounded in count (BUDGET) and in time (all start inside the trading window and each
lasts at most a few seconds), so a run ends; the same seed gives the same schedule.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["kill_worker", "kill_fleet", "restart_broker", "cut_boxes", "cut_hq",
                    "stop_postgres", "garbage", "kill_box", "paper_out"]

BUDGET: dict[FaultKind, int] = {
    "kill_worker": 2, "kill_fleet": 1, "restart_broker": 1, "cut_boxes": 2, "cut_hq": 1,
    "stop_postgres": 1, "garbage": 3, "kill_box": 1,
    "paper_out": 1}
"""How many faults of each kind one run injects."""
LENGTH_S: dict[FaultKind, tuple[float, float]] = {
    "kill_worker": (0.5, 3.0), "kill_fleet": (0.5, 2.0), "restart_broker": (0.0, 0.0),
    "cut_boxes": (1.0, 5.0), "cut_hq": (1.0, 4.0), "stop_postgres": (2.0, 6.0),
    "garbage": (0.0, 0.0), "kill_box": (0.5, 2.0), "paper_out": (2.0, 6.0)}
"""How long each kind of fault lasts (the process stays dead, the link cut, …), in seconds."""


@dataclass(frozen=True)
class Fault:
    """One fault starting `at_s` seconds into the run, lasting `length_s`; `target` picks which
    worker or fleet process (an index, taken modulo how many there are)."""

    at_s: float
    kind: FaultKind
    length_s: float
    target: int


def fault_schedule(seed: int, window_s: float, start_s: float = 3.0) -> list[Fault]:
    """Every fault of BUDGET at a seeded moment in [start_s, window_s), in time order."""
    rng = random.Random(f"storelink-chaos:{seed}")
    faults = []
    for kind, count in BUDGET.items():
        lo, hi = LENGTH_S[kind]
        for _ in range(count):
            faults.append(Fault(rng.uniform(start_s, window_s), kind, rng.uniform(lo, hi),
                                rng.randrange(1 << 16)))
    return sorted(faults, key=lambda f: (f.at_s, f.kind))
