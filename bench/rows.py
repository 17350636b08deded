"""The machine-readable result of a benchmark: rows of (figure, its same-run baseline, ratio).

A bench run with `--json` prints each row as one JSON object on its own stdout line (other
lines are free text); bench/run_all.py collects them into one table. The format is in
bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One figure: `value` in `unit`, beside `baseline_value` of `baseline` (same unit unless
    `baseline_unit` says otherwise) measured in the same run; `better` is "higher" or "lower"."""

    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    baseline_unit: str | None = None
    better: str = "higher"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / baseline_value (None without a baseline)."""
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    def to_obj(self) -> dict[str, object]:
        """The JSON object printed for this row."""
        out: dict[str, object] = {"name": self.name, "value": _num(self.value),
                                  "unit": self.unit, "better": self.better}
        if self.baseline is not None and self.baseline_value is not None:
            ratio = self.ratio
            out |= {"baseline": self.baseline, "baseline_value": _num(self.baseline_value),
                    "baseline_unit": self.baseline_unit or self.unit,
                    "ratio": None if ratio is None else round(ratio, 4)}
        if self.note:
            out["note"] = self.note
        return out


def _num(x: float) -> float:
    return round(x, 3) if math.isfinite(x) else x


def add_json_flag(ap: argparse.ArgumentParser) -> None:
    """The `--json` option every bench takes."""
    ap.add_argument("--json", action="store_true",
                    help="also print each figure as a JSON object per line (bench/README.md)")


def emit(rows: list[Row], as_json: bool) -> None:
    """Print `rows` as JSON lines when asked (the human text is printed by the bench itself)."""
    if as_json:
        for r in rows:
            print(json.dumps(r.to_obj(), ensure_ascii=False), flush=True)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(p / 100 * len(s)) - 1))]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)
