"""`storelink doctor --config FILE`: the box's checklist; exit 1 when anything failed."""

from __future__ import annotations

import argparse
from pathlib import Path

from agent import EXIT_FAIL, EXIT_OK


def _doctor(args: argparse.Namespace) -> int:
    from agent.health.doctor import render, run_checks

    checks = run_checks(Path(args.config))
    print(render(checks), flush=True)
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink doctor`."""
    d = sub.add_parser("doctor", help="check config, keys, state directory, disk, HQ's broker "
                       "and every printer; print the fix for each failure (Chinese)")
    d.add_argument("--config", default="/etc/storelink/storelink.toml")
    d.set_defaults(func=_doctor)
