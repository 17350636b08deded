"""The [[scanners]], [[displays]] and [discovery] tables: values, defaults and dotted-key errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[3]
BOX = {"id": "CQ-JB-001-B1"}


def errors(**tables: object) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config({"box": BOX, **tables})
    return e.value.errors


def test_the_example_configures_scanners_displays_and_loopback_discovery() -> None:
    cfg = load_config(ROOT / "config.example.toml")
    kinds = {s.id: s.kind for s in cfg.scanners}
    assert kinds == {"till": "serial", "bench": "hid", "dock": "hid_pos"}
    bench = next(s for s in cfg.scanners if s.id == "bench")
    assert bench.by_usb and bench.serial and bench.vendor_id == 0x0C2E
    assert [(d.id, d.kind) for d in cfg.displays] == [("pole", "vfd")]
    assert cfg.discovery.interfaces == ("127.0.0.1",)
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    assert "interfaces" in raw["discovery"]


def test_defaults_keep_zeroconf_on_loopback() -> None:
    cfg = parse_config({"box": BOX})
    assert cfg.scanners == () and cfg.displays == ()
    d = cfg.discovery
    assert d.interfaces == ("127.0.0.1",) and d.zeroconf and d.advertise and d.usb
    serial = parse_config({"box": BOX, "scanners": [
        {"id": "till", "kind": "serial", "device": "/dev/serial/by-id/usb-Newland-if00"}]})
    (s,) = serial.scanners
    assert (s.terminator, s.baudrate, s.encoding, s.idle_timeout_ms) == ("CR", 9600, None, None)
    hid = parse_config({"box": BOX, "scanners": [
        {"id": "b", "kind": "hid", "vendor_id": 0x0C2E, "product_id": 0x0B61,
         "port_path": "1-1.4", "terminator": "TAB"}]})
    assert hid.scanners[0].terminator == "tab" and hid.scanners[0].by_usb


def test_every_scanner_error_names_its_dotted_key() -> None:
    errs = errors(scanners=[
        {"id": "till", "kind": "serial", "device": "/dev/ttyUSB0", "terminator": "ETX"},
        {"id": "till", "kind": "laser", "device": "/dev/hidraw0"},
        {"id": "a b", "kind": "hid", "device": "/dev/hidraw1", "vendor_id": 3118},
        {"id": "c", "kind": "hid"},
        {"id": "d", "kind": "serial", "device": "/dev/ttyS0", "terminator": "NONE",
         "encoding": "klingon"},
        {"id": "e", "kind": "hid_pos", "device": "/dev/hidraw2", "layout": "zebra",
         "terminator": "enter"},
        {"id": "f", "kind": "serial", "device": "/dev/ttyS1", "vendor_id": 1},
        {"id": "g", "kind": "hid", "vendor_id": 0x0C2E, "product_id": 0x0B61,
         "port_path": "usb1"},
        "not a table"])
    assert "scanners[0].terminator: must be one of CR, LF, CRLF, TAB, NONE" in errs
    assert "scanners[1].id: duplicate scanner id 'till'" in errs
    assert "scanners[1].kind: must be one of serial, hid, hid_pos" in errs
    assert "scanners[2].id: only letters, digits, - and _" in errs
    assert any(e.startswith("scanners[2].device: give either device") for e in errs)
    assert any(e.startswith("scanners[3].device: give device") for e in errs)
    assert "scanners[4].idle_timeout_ms: is required when terminator is none" in errs
    assert "scanners[4].encoding: unknown encoding 'klingon'" in errs
    assert "scanners[5].layout: must be one of honeywell, newland" in errs
    assert "scanners[5].terminator: unknown key" in errs
    assert "scanners[6].vendor_id: unknown key" in errs
    assert "scanners[7].port_path: 'usb1' is not a port path like 1-1.4" in errs
    assert "scanners[8]: must be a table, got a string" in errs


def test_display_and_discovery_errors_name_their_keys() -> None:
    errs = errors(displays=[{"id": "pole", "kind": "oled", "device": "/dev/ttyS0"},
                            {"id": "led", "kind": "price", "baudrate": 300},
                            {"id": "led", "kind": "vfd", "device": "/dev/ttyS1",
                             "colour": "green"}],
                  discovery={"interfaces": ["127.0.0.1", "eth0"], "rescan_interval_s": 0,
                             "mdns": True})
    assert "displays[0].kind: must be one of vfd, price" in errs
    assert "displays[1].device: is required" in errs
    assert "displays[1].baudrate: must be 1200-921600" in errs
    assert "displays[2].id: duplicate display id 'led'" in errs
    assert "displays[2].colour: unknown key" in errs
    assert "discovery.interfaces[1]: 'eth0' is not an IP address" in errs
    assert "discovery.rescan_interval_s: must be a number 0.2-3600.0" in errs
    assert "discovery.mdns: unknown key" in errs
    assert errors(scanners={"id": "x"}) == [
        "scanners: must be an array of tables ([[scanners]]), got a table"]
    assert errors(discovery={"interfaces": []}) == [
        "discovery.interfaces: must be a non-empty list of IP addresses"]
