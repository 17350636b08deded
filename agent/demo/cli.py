"""`storelink demo`: the scripted day on simulated devices."""

from __future__ import annotations

import argparse
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from agent.demo.run import run_demo

    return run_demo(Path(args.out), keep_running=not args.once)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink demo`."""
    demo = sub.add_parser("demo", help="a scripted day of work on simulated devices")
    demo.add_argument("--out", default="demo-out")
    demo.add_argument("--once", action="store_true", help="exit when the script is done")
    demo.set_defaults(func=_demo)

