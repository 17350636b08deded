"""The `storelink` command: one entry point; each room adds its subcommands (add_commands)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent import EXIT_FAIL, EXIT_OK, EXIT_TOO_LARGE, EXIT_USAGE, AgentError
from drivers import DriverError, InvalidInput
from drivers.print_budget import JobTooLarge

if TYPE_CHECKING:
    from agent.config import Config


def _load_config(path: str) -> Config | None:
    """The box's configuration at `path`, or None once each of its errors is on stderr."""
    from agent.config import ConfigError, load_config

    try:
        return load_config(Path(path))
    except ConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return None


def _config_check(args: argparse.Namespace) -> int:
    cfg = _load_config(args.file)
    if cfg is None:
        return EXIT_USAGE
    print(f"{args.file}: ok — box {cfg.box.id}, {len(cfg.printers)} printer(s): "
          + ", ".join(f"{p.id} ({p.profile.name})" for p in cfg.printers))
    return EXIT_OK


def _agent_run(args: argparse.Namespace) -> int:
    from agent.daemon import run

    cfg = _load_config(args.config)
    return EXIT_USAGE if cfg is None else run(cfg)


def build_parser(plugins: bool = True, rooms: bool = True) -> argparse.ArgumentParser:
    """The full argument parser (subcommands register their handler as `func`); without
    `plugins`, only this package's commands; without `rooms`, only `config` and `agent`."""
    p = argparse.ArgumentParser(prog="storelink", description="Storelink edge box: printers, "
                                "scanners, signed journal and sync with HQ.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cfg = sub.add_parser("config", help="check a configuration file")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    chk = cfg_sub.add_parser("check", help="validate FILE; every error names its dotted key")
    chk.add_argument("file")
    chk.set_defaults(func=_config_check)

    ag = sub.add_parser("agent", help="the box daemon")
    ag_sub = ag.add_subparsers(dest="action", required=True)
    run = ag_sub.add_parser("run", help="run the daemon with its local API")
    run.add_argument("--config", required=True)
    run.set_defaults(func=_agent_run)

    if rooms:
        from agent.demo import cli as demo_cli
        from agent.devices import cli as devices_cli
        from agent.fleet_sim import cli as fleet_cli
        from agent.health import cli as health_cli
        from agent.journal import cli as journal_cli
        from agent.pairing import cli as pairing_cli
        from agent.printing import cli as printing_cli
        from agent.upgrade import cli as upgrade_cli

        for room in (printing_cli, journal_cli, health_cli, demo_cli, pairing_cli, upgrade_cli):
            room.add_commands(sub)
        fleet_cli.add_commands(devices_cli.add_commands(sub))
    if plugins:
        # Other packages (hq) add their commands through an entry point: agent never imports
        # them, and the metadata machinery is loaded only when a command may be theirs.
        from importlib.metadata import entry_points

        for ep in entry_points(group="storelink.commands"):
            ep.load()(sub)
    return p


def _own_command(argv: Sequence[str]) -> bool:
    """Whether `argv` names one of this package's commands (then no plug-in is loaded: the
    daemon does not carry HQ's code or the package metadata it would take to find it)."""
    if not argv or argv[0].startswith("-"):
        return False
    sub = next(a for a in build_parser(plugins=False)._actions
               if isinstance(a, argparse._SubParsersAction))
    return argv[0] in sub.choices


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["agent", "run"]:
        # The daemon: none of the other commands' modules (docs/deploy.md, idle memory).
        from agent.health.trust_store import read_trust_on_demand

        read_trust_on_demand()  # before aiohttp is imported (docs/deploy.md, idle memory)
        parser = build_parser(plugins=False, rooms=False)
    else:
        parser = build_parser(plugins=not _own_command(argv))
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except JobTooLarge as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_TOO_LARGE
    except InvalidInput as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (DriverError, AgentError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_FAIL
