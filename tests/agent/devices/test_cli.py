"""`storelink devices`: the command's wiring, text and JSON output, and exit codes."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from agent.devices.cli import add_commands, device_report, format_report, unconfigured
from agent.devices.discovery import DeviceEnv
from drivers.sim.printer import SimEscposPrinter
from drivers.sim.usb_backend import SimUsbBackend, SimUsbPrinter


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="storelink")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def test_devices_command_text_json_and_exit_codes(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "hidraw-sim"
    os.mkfifo(fifo)
    config = tmp_path / "box.toml"
    config.write_text(f"""
[box]
id = "CQ-JB-001-B1"
state_dir = "{tmp_path}"

[[scanners]]
id = "bench"
name = "工位扫码枪"
kind = "hid"
device = "{fifo}"

[discovery]
zeroconf = false
""", encoding="utf-8")
    assert run(["devices", "--config", str(config), "--network-wait", "0"]) == 0
    out = capsys.readouterr().out
    assert "Configured (1)" in out and "scanners.bench" in out and "present" in out
    assert run(["devices", "--config", str(config), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert set(body) == {"found", "configured", "suggestions", "sources", "scanned_ms"}
    assert body["configured"][0]["ref"] == "scanners.bench"
    fifo.unlink()
    assert run(["devices", "--config", str(config), "--json"]) == 1  # now missing
    capsys.readouterr()
    config.write_text("[box]\nid = 3\n", encoding="utf-8")
    assert run(["devices", "--config", str(config)]) == 2
    assert "box.id: must be a string" in capsys.readouterr().err


def test_without_a_config_every_printer_found_is_a_suggestion() -> None:
    backend = SimUsbBackend([SimUsbPrinter(SimEscposPrinter(), serial="XP80-2024-0001"),
                             SimUsbPrinter(SimEscposPrinter(), serial="XP80-2024-0002",
                                           port_numbers=(2,))])
    report = device_report(unconfigured(), DeviceEnv(usb_backend=backend,
                                                     serial_dir=Path("/nonexistent")))
    assert report.configured == ()
    assert [s.toml.splitlines()[1] for s in report.suggestions] == [
        'id = "printer-1"                # rename as you like',
        'id = "printer-2"                # rename as you like']
    assert 'serial = "XP80-2024-0002"' in report.suggestions[1].toml
    text = format_report(report)
    assert "Suggestions (2)" in text and "vendor_id = 0x0416" in text
    assert report.sources["network"] == "off" and report.sources["usb"] == "ok: 2 device(s)"
