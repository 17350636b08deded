"""Run every benchmark in bench/ one after another; each prints its own figures and baselines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Run bench_*.py in name order; the exit code is the first failure's, else 0."""
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        if rc and not failed:
            failed = rc
    return failed


if __name__ == "__main__":
    raise SystemExit(main())
