"""The `storelink` command line: one entry point, subcommands for every part of the box."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path

from agent import AgentError
from agent.devices_cli import add_device_commands
from agent.journal.cli import add_journal_commands
from drivers import DriverError, InvalidInput
from drivers.print_budget import JobTooLarge

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TOO_LARGE = 0, 1, 2, 3


def _config_check(args: argparse.Namespace) -> int:
    from agent.config import ConfigError, load_config

    try:
        cfg = load_config(Path(args.file))
    except ConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.file}: ok — box {cfg.box.id}, {len(cfg.printers)} printer(s): "
          + ", ".join(f"{p.id} ({p.profile.name})" for p in cfg.printers))
    return EXIT_OK


def _load_json(path: str) -> object:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        return json.loads(text)
    except OSError as e:
        raise InvalidInput(path, e.strerror or str(e)) from None
    except json.JSONDecodeError as e:
        raise InvalidInput(path, f"not valid JSON: {e}") from None


def _print_render(args: argparse.Namespace) -> int:
    from agent.jobs import parse_job, render_job
    from drivers.profiles import get_profile

    profile = get_profile(args.profile)
    job = parse_job(_load_json(args.job))
    encoded = render_job(job, profile)
    out = Path(args.output)
    if args.format == "png":
        from agent.preview import preview_png

        data = preview_png(encoded.data, profile)
    else:
        if args.format != profile.language:
            raise InvalidInput("--format", f"profile {profile.name} speaks {profile.language}")
        data = encoded.data
    try:
        out.write_bytes(data)
    except OSError as e:
        print(f"error: --output: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAIL
    print(f"{out}: {out.stat().st_size} bytes ({args.format}, {profile.name})")
    return EXIT_OK


def _sim_printer(args: argparse.Namespace) -> int:
    from drivers.sim.control import run_printer_sim

    default = {"escpos": "generic-cn-80", "tspl": "tspl-203", "zpl": "zpl-203"}[args.kind]
    return run_printer_sim(kind=args.kind, profile_name=args.profile or default, port=args.port,
                           pty=args.pty, out_dir=Path(args.out), state=args.state)


def _sim_scanner(args: argparse.Namespace) -> int:
    from drivers.sim.scanner import run_scanner_sim

    if args.codes == "-":
        run_scanner_sim(args.kind, sys.stdin, args.terminator, path=args.path,
                        announce=sys.stderr, interval_s=args.interval)
        return EXIT_OK
    with Path(args.codes).open(encoding="utf-8") as source:
        run_scanner_sim(args.kind, source, args.terminator, path=args.path, announce=sys.stderr,
                        interval_s=args.interval)
    return EXIT_OK


def _sim_display(args: argparse.Namespace) -> int:
    import signal
    import threading

    from drivers.sim.display import run_display_sim

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_display_sim(args.kind, sys.stdout, stop)
    return EXIT_OK


def _agent_run(args: argparse.Namespace) -> int:
    from agent.config import ConfigError, load_config
    from agent.daemon import run

    try:
        cfg = load_config(Path(args.config))
    except ConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    return run(cfg)


def _demo(args: argparse.Namespace) -> int:
    from agent.demo import run_demo

    return run_demo(Path(args.out), keep_running=not args.once)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (subcommands register their handler as `func`)."""
    p = argparse.ArgumentParser(prog="storelink", description="Storelink edge box: printers, "
                                "scanners, signed journal and sync with HQ.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cfg = sub.add_parser("config", help="check a configuration file")
    cfg_sub = cfg.add_subparsers(dest="action", required=True)
    chk = cfg_sub.add_parser("check", help="validate FILE; every error names its dotted key")
    chk.add_argument("file")
    chk.set_defaults(func=_config_check)

    prn = sub.add_parser("print", help="render print jobs")
    prn_sub = prn.add_subparsers(dest="action", required=True)
    ren = prn_sub.add_parser("render", help="write the exact printer bytes or a PNG preview")
    ren.add_argument("job", help="job JSON file (docs/print-jobs.md), or - for stdin")
    ren.add_argument("--profile", required=True, help="printer profile name")
    ren.add_argument("--format", choices=["escpos", "tspl", "zpl", "png"], default="escpos")
    ren.add_argument("-o", "--output", required=True)
    ren.set_defaults(func=_print_render)

    sim = sub.add_parser("sim", help="simulated devices for tests and demos")
    sim_sub = sim.add_subparsers(dest="device", required=True)
    sp = sim_sub.add_parser("printer", help="a simulated printer on TCP (port 9100) or a pty")
    sp.add_argument("--kind", choices=["escpos", "tspl", "zpl"], default="escpos")
    sp.add_argument("--profile", default=None,
                    help="printer profile (default: generic-cn-80, tspl-203 or zpl-203 by kind)")
    sp.add_argument("--port", type=int, default=9100)
    sp.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal instead")
    sp.add_argument("--out", default="sim-out", help="directory for received jobs (PNG + bytes)")
    sp.add_argument("--state", default="ok", help="initial state: ok, paper_low, paper_out, "
                    "cover_open (receipts), head_open, ribbon_out, paused (labels), "
                    "disconnected, slow; change it by typing 'state X' on stdin")
    sp.set_defaults(func=_sim_printer)

    ss = sim_sub.add_parser("scanner", help="a barcode scanner: serial on a pty, or HID reports "
                            "into a FIFO; one code per input line")
    ss.add_argument("--kind", choices=["serial", "hid"], default="serial")
    ss.add_argument("--terminator", choices=["CR", "LF", "CRLF", "TAB", "NONE"], default="CR")
    ss.add_argument("--path", help="hid: the FIFO or file to write reports into")
    ss.add_argument("--interval", type=float, default=0.0, help="seconds between scans")
    ss.add_argument("codes", nargs="?", default="-", help="file of codes (default: stdin)")
    ss.set_defaults(func=_sim_scanner)
    sd = sim_sub.add_parser("display", help="a customer display (客显) on a pty")
    sd.add_argument("--kind", choices=["vfd", "price"], default="vfd")
    sd.set_defaults(func=_sim_display)

    ag = sub.add_parser("agent", help="the box daemon")
    ag_sub = ag.add_subparsers(dest="action", required=True)
    run = ag_sub.add_parser("run", help="run the daemon with its local API")
    run.add_argument("--config", required=True)
    run.set_defaults(func=_agent_run)

    demo = sub.add_parser("demo", help="a scripted day of work on simulated devices")
    demo.add_argument("--out", default="demo-out")
    demo.add_argument("--once", action="store_true", help="exit when the script is done")
    demo.set_defaults(func=_demo)

    add_journal_commands(sub)
    add_device_commands(sub)
    # Other packages (hq) add their commands through an entry point: agent never imports them.
    for ep in entry_points(group="storelink.commands"):
        ep.load()(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
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
