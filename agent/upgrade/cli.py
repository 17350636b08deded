"""`storelink upgrade guard|status`: the guard systemd runs (from the `good` release) before
every start of the box daemon, and the last upgrade's state."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent import EXIT_OK
from agent.journal.clock import wall_ms
from agent.upgrade.layout import Layout
from agent.upgrade.plan import on_start

DEFAULT_OPT = "/opt/storelink"
DEFAULT_STATE = "/var/lib/storelink"


def guard(layout: Layout, now_ms: int) -> str:
    """Count a start of a release on trial, or switch `current` back to the previous release
    (the line saying so is returned, "" otherwise). Never stops the start: what it cannot
    read it reports and leaves as it is."""
    current = layout.link("current")
    if current is None:
        return ""
    trial = layout.read_trial()
    d = on_start(trial, current, now_ms)
    if d.switch:
        layout.switch("current", d.release)
    if d.trial is not None and d.trial != trial:
        layout.write_trial(d.trial)
    return d.line


def _guard(args: argparse.Namespace) -> int:
    try:
        line = guard(Layout(Path(args.opt), Path(args.state_dir)), wall_ms())
    except OSError as e:
        print(f"升级检查失败 / upgrade guard: {e}", file=sys.stderr, flush=True)
        return EXIT_OK
    if line:
        # stderr goes to journald under systemd: the technician's line.
        print(line, file=sys.stderr, flush=True)
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    layout = Layout(Path(args.opt), Path(args.state_dir))
    trial = layout.read_trial()
    print(f"current: {layout.link('current')}\ngood: {layout.link('good')}\n"
          f"last upgrade: {trial.to_json() if trial else 'none'}")
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink upgrade guard` and `storelink upgrade status`."""
    up = sub.add_parser("upgrade", help="A/B release upgrades: the start guard and the state")
    up_sub = up.add_subparsers(dest="action", required=True)
    for name, func, text in (
            ("guard", _guard, "before a start: count a trial start or roll back (systemd "
             "ExecStartPre; always exits 0)"),
            ("status", _status, "the running and fallback releases and the last upgrade")):
        p = up_sub.add_parser(name, help=text)
        p.add_argument("--opt", default=DEFAULT_OPT, help="the release tree")
        p.add_argument("--state-dir", default=DEFAULT_STATE)
        p.set_defaults(func=func)
