"""`storelink devices`: what is attached, what is configured, which is which and why."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agent.config import Config, ConfigError, load_config, parse_config
from agent.devices.discovery import DeviceEnv, scan_devices
from agent.devices.matching import NetService
from agent.devices.network import browse
from agent.devices.report import DeviceReport
from agent.queue.service import wall_ms

EXIT_OK, EXIT_MISSING, EXIT_USAGE = 0, 1, 2


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


def add_device_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink devices` on the top-level subparsers."""
    p = sub.add_parser("devices", help="list found, configured and matched devices, with why, "
                       "and config snippets for the unconfigured")
    p.add_argument("--config", help="the box configuration (without it every device found is "
                   "a suggestion)")
    p.add_argument("--json", action="store_true", help="print the GET /v1/devices JSON")
    p.add_argument("--network-wait", type=float, default=2.0, metavar="S",
                   help="seconds to browse zeroconf on discovery.interfaces (0: skip)")
    p.set_defaults(func=_devices)
