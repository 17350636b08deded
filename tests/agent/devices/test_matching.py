"""Matching configured devices to found ones: serial number, then port — never enumeration order."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from agent.devices.classify import UsbDescriptor, UsbInterface
from agent.devices.matching import (
    Match,
    NetService,
    SerialEntry,
    Wanted,
    match_path,
    match_tcp,
    match_usb,
    resolve_conflicts,
)
from agent.devices.report import build_report

PRN = (UsbInterface(0, 7, 1, 2),)


def dev(serial: str | None, port: str, vid: int = 0x0416, pid: int = 0x5011) -> UsbDescriptor:
    return UsbDescriptor(vid, pid, serial, port, "Xprinter", "XP-80C", interfaces=PRN)


def want(serial: str | None = None, port: str | None = None) -> Wanted:
    return Wanted("printers.front", "printer", "usb", 0x0416, 0x5011, serial, port)


def test_by_serial_wherever_it_is_plugged() -> None:
    found = [dev("XP80-0001", "1-1"), dev("XP80-0002", "1-2")]
    m = match_usb(want("XP80-0002"), found)
    assert (m.state, m.key) == ("matched", "usb:0416:5011:XP80-0002@1-2")
    assert "serial number XP80-0002" in m.why
    moved = match_usb(want("XP80-0002", "1-1"), [dev("XP80-0002", "1-4")])
    assert moved.key == "usb:0416:5011:XP80-0002@1-4"  # the serial wins over an old port


def test_a_different_serial_is_a_different_printer_even_at_the_port() -> None:
    m = match_usb(want("XP80-0001", "1-1"), [dev("XP80-0009", "1-1")])
    assert m.state == "missing" and "serial=XP80-0009 port=1-1" in m.why


def test_port_path_when_the_serial_cannot_tell() -> None:
    shared = [dev("000000000001", "1-1"), dev("000000000001", "1-2")]
    assert match_usb(want("000000000001"), shared).state == "ambiguous"
    m = match_usb(want("000000000001", "1-2"), shared)
    assert (m.state, m.key) == ("matched", "usb:0416:5011:000000000001@1-2")
    no_serial = [dev(None, "1-1"), dev(None, "1-2")]
    assert match_usb(want(port="1-1"), no_serial).key == "usb:0416:5011:@1-1"
    assert match_usb(want("XP80-0001", "1-2"), no_serial).key == "usb:0416:5011:@1-2"
    ambiguous = match_usb(want(), no_serial)
    assert ambiguous.state == "ambiguous" and "set serial or port_path" in ambiguous.why
    assert match_usb(want(), no_serial[:1]).state == "matched"
    assert match_usb(want(port="1-3"), no_serial).state == "missing"
    assert match_usb(want(), [dev("x", "1-1", pid=0x5012)]).state == "missing"


devices = st.lists(st.builds(dev, st.sampled_from([None, "A", "B", "C"]),
                             st.sampled_from(["1-1", "1-2", "1-3.1", "2-1"])), max_size=6)
wanted = st.builds(want, st.sampled_from([None, "A", "B", "Z"]),
                   st.sampled_from([None, "1-1", "1-3.1", "9-9"]))


@given(devices, wanted, st.randoms())
def test_enumeration_order_never_changes_the_answer(found: list[UsbDescriptor], w: Wanted,
                                                    rnd: random.Random) -> None:
    shuffled = list(found)
    rnd.shuffle(shuffled)
    assert match_usb(w, found) == match_usb(w, shuffled)
    m = match_usb(w, found)
    if m.state == "matched":
        (chosen,) = {d for d in found if d.key == m.key}
        assert chosen.serial == w.serial or (w.serial is None or chosen.serial is None)


def test_two_configured_devices_on_one_found_device_are_both_ambiguous() -> None:
    found = [dev(None, "1-1")]
    a = Wanted("printers.front", "printer", "usb", 0x0416, 0x5011)
    b = Wanted("printers.back", "printer", "usb", 0x0416, 0x5011)
    out = resolve_conflicts({w.ref: match_usb(w, found) for w in (a, b)})
    assert {m.state for m in out.values()} == {"ambiguous"}
    assert "printers.back matches the same device" in out["printers.front"].why


def test_serial_ports_by_id_by_kernel_name_or_just_present() -> None:
    entries = [SerialEntry("/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0", "/dev/ttyUSB0",
                           "1-1.2")]
    by_id = Wanted("scanners.till", "scanner", "serial",
                   path="/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0")
    assert match_path(by_id, entries, {}).state == "matched"
    kernel = Wanted("displays.pole", "display", "serial", path="/dev/ttyUSB0")
    m = match_path(kernel, entries, {"/dev/ttyUSB0": "/dev/ttyUSB0"})
    assert m == Match("matched", entries[0].key,
                      "/dev/ttyUSB0 is /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0; a "
                      "kernel name can change after a re-plug: configure the by-id name")
    uart = Wanted("displays.pole", "display", "serial", path="/dev/ttyS0")
    assert match_path(uart, entries, {"/dev/ttyS0": "/dev/ttyS0"}).state == "present"
    assert match_path(uart, entries, {"/dev/ttyS0": None}).state == "missing"


def test_network_printers_match_by_address_or_stay_unchecked() -> None:
    raw = NetService("_pdl-datastream._tcp.local.", "XP-80 前台._pdl-datastream._tcp.local.",
                     "192.168.1.50", 9100, {"ty": "Xprinter XP-80", "usb_CMD": "ESC/POS"})
    ipp = NetService("_ipp._tcp.local.", "XP-80 前台._ipp._tcp.local.", "192.168.1.50", 631, {})
    front = Wanted("printers.front", "printer", "tcp", host="192.168.1.50", port=9100)
    assert match_tcp(front, [ipp, raw]).state == "matched"
    assert "on port 9100" in match_tcp(front, [ipp, raw]).why
    assert match_tcp(front, []).state == "unchecked"
    report = build_report([], [], [], [raw, ipp], {}, {}, 1)
    (found,) = report.found
    assert (found.kind, found.detail, found.key) == ("printer", "escpos", "net:192.168.1.50")
    (s,) = report.suggestions
    assert 'transport = "tcp"' in s.toml and 'host = "192.168.1.50"' in s.toml
    assert "port = 9100" in s.toml and 'profile = "generic-cn-80"' in s.toml
