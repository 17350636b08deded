"""`storelink devices` (found, configured, matched, and why) and the `storelink sim` devices."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agent import EXIT_OK, EXIT_USAGE
from agent.config import Config, ConfigError, load_config, parse_config
from agent.devices.discovery import DeviceEnv, scan_devices
from agent.devices.matching import NetService
from agent.devices.network import browse
from agent.devices.report import DeviceReport
from agent.printing.queue.service import wall_ms

EXIT_MISSING = 1


def unconfigured() -> Config:
    """A configuration with no devices: everything found becomes a suggestion."""
    return parse_config({"box": {"id": "unconfigured"}})


def device_report(config: Config, env: DeviceEnv, network_wait_s: float = 0.0) -> DeviceReport:
    """Scan once (blocking); browse zeroconf on the configured interfaces for `network_wait_s`."""
    services: list[NetService] = []
    status = "off"
    if network_wait_s > 0 and config.discovery.zeroconf:
        services, status = asyncio.run(browse(config.discovery.interfaces, network_wait_s))
    return scan_devices(config, env, services, wall_ms(), status)


def format_report(report: DeviceReport) -> str:
    """The report as text for people: found, configured with their match, suggestions."""
    out = [f"Found ({len(report.found)})"]
    for f in report.found:
        where = " ".join(f"{k}={f.attrs[k]}" for k in ("serial", "port_path", "path", "host",
                                                        "port") if f.attrs.get(k))
        refs = f"  → {', '.join(f.configured_as)}" if f.configured_as else "  (not configured)"
        out.append(f"  {f.kind:<11} {f.detail or '-':<7} {f.title}  {f.bus} {where}{refs}")
        out.append(f"      why: {'; '.join(f.why)}")
    out.append(f"Configured ({len(report.configured)})")
    for c in report.configured:
        out.append(f"  {c.ref:<22} {c.identity:<40} {c.state}")
        out.append(f"      why: {c.why}")
    if report.suggestions:
        out.append(f"Suggestions ({len(report.suggestions)}): found but not configured; paste "
                   "into the configuration and adjust")
        for s in report.suggestions:
            out.append(f"  # {s.title}: {s.why}")
            out += [f"  {line}" for line in s.toml.rstrip("\n").split("\n")]
            out.append("")
    out.append("Sources: " + "; ".join(f"{k} {v}" for k, v in sorted(report.sources.items())))
    return "\n".join(out) + "\n"


def exit_code(report: DeviceReport) -> int:
    """1 when a configured device is missing or ambiguous, else 0."""
    bad = any(c.state in ("missing", "ambiguous") for c in report.configured)
    return EXIT_MISSING if bad else EXIT_OK


def _devices(args: argparse.Namespace) -> int:
    try:
        config = load_config(Path(args.config)) if args.config else unconfigured()
    except ConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    report = device_report(config, DeviceEnv(), args.network_wait)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(format_report(report))
    return exit_code(report)


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


def _sim_scale(args: argparse.Namespace) -> int:
    from drivers.sim.scale import run_scale_sim

    return run_scale_sim(args.protocol, sys.stdin, sys.stderr, grams=args.weight,
                         status=args.status, interval_s=args.interval)


def _sim_display(args: argparse.Namespace) -> int:
    import signal
    import threading

    from drivers.sim.display import run_display_sim

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_display_sim(args.kind, sys.stdout, stop)
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]
                 ) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """Register `storelink devices` and `storelink sim printer|scanner|scale|display`; returns
    the `sim` subcommands, for other rooms' simulators."""
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
    sc = sim_sub.add_parser("scale", help="a serial scale (秤) on a pty; type 'weight G', "
                            "'status S', 'garbage' or 'unplug' on stdin")
    sc.add_argument("--protocol", choices=["toledo-8217", "ad-continuous", "yousheng-jcs"],
                    default="ad-continuous")
    sc.add_argument("--weight", type=int, default=0, help="grams on the platter")
    sc.add_argument("--status", choices=["stable", "motion", "overload", "under_zero"],
                    default="stable")
    sc.add_argument("--interval", type=float, default=0.1,
                    help="seconds between frames of a continuous protocol")
    sc.set_defaults(func=_sim_scale)
    sd = sim_sub.add_parser("display", help="a customer display (客显) on a pty")
    sd.add_argument("--kind", choices=["vfd", "price"], default="vfd")
    sd.set_defaults(func=_sim_display)

    p = sub.add_parser("devices", help="list found, configured and matched devices, with why, "
                       "and config snippets for the unconfigured")
    p.add_argument("--config", help="the box configuration (without it every device found is "
                   "a suggestion)")
    p.add_argument("--json", action="store_true", help="print the GET /v1/devices JSON")
    p.add_argument("--network-wait", type=float, default=2.0, metavar="S",
                   help="seconds to browse zeroconf on discovery.interfaces (0: skip)")
    p.set_defaults(func=_devices)
    return sim_sub
