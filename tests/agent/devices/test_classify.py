"""Classifying USB devices from descriptor values seen on real printers, scanners and adapters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.devices.classify import (
    UsbDescriptor,
    UsbInterface,
    classify,
    hid_usage_pages,
    language_of,
    parse_device_id,
)

PRINTER_IF = UsbInterface(0, 0x07, 0x01, 0x02)
BOOT_KEYBOARD = UsbInterface(0, 0x03, 0x01, 0x01)
# Start of a boot keyboard's report descriptor (HID 1.11 Appendix B.1).
KEYBOARD_REPORT = bytes.fromhex("05010906a101050719e029e71500250175019508810295017508810395"
                                "0575010508190129059102c0")
# A HID POS scanner: Usage Page (Bar Code Scanner) 0x8C, Usage (Bar Code Badge Reader).
POS_REPORT = bytes.fromhex("068c000902a101850209fe1500 26ff00 7508 953f 8102 c0".replace(" ", ""))

CASES = [
    ("Epson TM-T88V", UsbDescriptor(
        0x04B8, 0x0202, "J7PF123456", "1-1", "EPSON", "TM-T88V", interfaces=(PRINTER_IF,),
        device_id="MFG:EPSON;CMD:ESC/POS;MDL:TM-T88V;CLS:PRINTER;DES:EPSON TM-T88V;"),
     "printer", "escpos", "IEEE-1284 device id says CMD:ESC/POS"),
    ("Zebra ZD420", UsbDescriptor(
        0x0A5F, 0x0120, "D4J192301234", "1-2", "Zebra Technologies", "ZTC ZD420-203dpi ZPL",
        interfaces=(PRINTER_IF,), device_id="MFG:Zebra Technologies;CMD:ZPL;MDL:ZD420;"),
     "printer", "zpl", "CMD:ZPL"),
    ("TSC TTP-244 Pro", UsbDescriptor(
        0x1203, 0x0230, None, "1-3", "TSC", "TTP-244 Pro", interfaces=(PRINTER_IF,),
        device_id="MANUFACTURER:TSC;COMMAND SET:TSPL2;MODEL:TTP-244 Pro;"),
     "printer", "tspl", "COMMAND SET:TSPL2"),
    ("Xprinter XP-58 (no 1284 id)", UsbDescriptor(
        0x0416, 0x5011, None, "1-4", None, "POS58 Printer", interfaces=(PRINTER_IF,)),
     "printer", "escpos", "0416:5011 is a known"),
    ("Star TSP143", UsbDescriptor(
        0x0519, 0x0003, "2580418012345", "1-5", "Star Micronics", "TSP143",
        interfaces=(UsbInterface(0, 0xFF),)),
     "printer", "star", "vendor 0519 is Star Micronics"),
    ("Honeywell scanner, USB keyboard mode", UsbDescriptor(
        0x0C2E, 0x0B61, "18010B1234", "1-6", "Honeywell Imaging & Mobility", "1250g",
        interfaces=(BOOT_KEYBOARD,)),
     "scanner", "hid", "a HID boot keyboard"),
    ("Newland FM420, HID POS (PID base 0D00 + 10)", UsbDescriptor(
        0x1EAB, 0x0D10, "FM420-17314", "1-7", "Newland", "FM420",
        interfaces=(UsbInterface(0, 0x03, 0, 0, hid_usage_pages(POS_REPORT)),)),
     "scanner", "hid_pos", "usage page 0x8C"),
    ("Newland scanner, USB COM mode", UsbDescriptor(
        0x1EAB, 0x1D06, "HR22-0001", "1-8", "Newland", "NLS-HR22",
        interfaces=(UsbInterface(0, 0x02, 0x02, 0x01), UsbInterface(1, 0x0A))),
     "scanner", "cdc", "USB-CDC"),
    ("a no-name keyboard-wedge scanner", UsbDescriptor(
        0x1A2C, 0x4C5E, None, "1-9", "SM", "USB Keyboard", interfaces=(BOOT_KEYBOARD,)),
     "keyboard", "hid", "keyboard-wedge scanner or a keyboard"),
    ("CH340 USB-serial adapter", UsbDescriptor(
        0x1A86, 0x7523, None, "1-10", None, "USB Serial", interfaces=(UsbInterface(0, 0xFF),)),
     "serial_port", "adapter", "WCH CH340"),
    ("a CDC ACM device of unknown make", UsbDescriptor(
        0x2341, 0x0043, "7563", "1-11", interfaces=(UsbInterface(0, 0x02, 0x02, 0x01),)),
     "serial_port", "cdc", "ACM"),
    ("a USB hub", UsbDescriptor(0x05E3, 0x0610, None, "1-12", device_class=0x09),
     "other", "hub", "hub"),
    ("a mouse", UsbDescriptor(0x046D, 0xC077, None, "1-13",
                              interfaces=(UsbInterface(0, 0x03, 0x01, 0x02),)),
     "other", None, "interface classes: 0x03"),
]


@pytest.mark.parametrize(("what", "desc", "kind", "detail", "why"), CASES,
                         ids=[c[0] for c in CASES])
def test_classification_with_reasons(what: str, desc: UsbDescriptor, kind: str,
                                     detail: str | None, why: str) -> None:
    c = classify(desc)
    assert (c.kind, c.detail) == (kind, detail), what
    assert any(why in r for r in c.reasons), c.reasons


def test_device_id_fields_and_languages() -> None:
    fields = parse_device_id("MFG:Xprinter;CMD:ESC/POS, TSPL;MDL:XP-365B;CLS:PRINTER;;junk")
    assert fields == {"MFG": "Xprinter", "CMD": "ESC/POS, TSPL", "MDL": "XP-365B",
                      "CLS": "PRINTER"}
    assert language_of(fields["CMD"]) == "escpos"
    assert language_of("TSPL2,ZPL") == "tspl"
    assert language_of("PCL,PJL,POSTSCRIPT") is None
    assert language_of("EPL2") == "epl"


def test_usage_pages_from_report_descriptors() -> None:
    assert hid_usage_pages(KEYBOARD_REPORT) == (0x01, 0x07, 0x08)
    assert hid_usage_pages(POS_REPORT) == (0x8C,)
    assert hid_usage_pages(bytes.fromhex("fe0210aabb058c")) == (0x8C,)  # after a long item
    assert hid_usage_pages(bytes.fromhex("068c")) == ()  # cut inside the item
    assert hid_usage_pages(b"") == ()


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=200))
def test_usage_pages_never_raise_and_a_cut_descriptor_gives_a_prefix(data: bytes,
                                                                      cut: int) -> None:
    pages = hid_usage_pages(data)
    assert all(0 <= p <= 0xFFFFFFFF for p in pages)
    assert len(set(pages)) == len(pages)
    head = hid_usage_pages(data[:cut])
    assert pages[:len(head)] == head


@given(st.text(max_size=120))
def test_device_id_parsing_never_raises(text: str) -> None:
    fields = parse_device_id(text)
    assert all(k == k.upper() and k.strip() == k for k in fields)
