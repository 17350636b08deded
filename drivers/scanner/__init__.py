"""Barcode scanners: byte framing, HID keyboard / HID POS decoding, AIM and GS1 parsing."""

from drivers.scanner.events import Scan, make_scan
from drivers.scanner.framing import RawScan, ScanFramer, terminator_bytes
from drivers.scanner.gs1 import parse_gs1
from drivers.scanner.hid import HidKeyboardDecoder, HidPosAssembler, parse_hid_pos_report
from drivers.scanner.symbology import Aim, split_aim

__all__ = [
    "Aim",
    "HidKeyboardDecoder",
    "HidPosAssembler",
    "RawScan",
    "Scan",
    "ScanFramer",
    "make_scan",
    "parse_gs1",
    "parse_hid_pos_report",
    "split_aim",
    "terminator_bytes",
]
