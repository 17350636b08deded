"""The `[[scanners]]`, `[[displays]]` and `[discovery]` tables of the box configuration."""

from __future__ import annotations

import codecs
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from drivers.scanner.framing import TERMINATORS
from drivers.scanner.hid import KEYBOARD_TERMINATORS

if TYPE_CHECKING:
    from agent.config import _Reader

ScannerKind = Literal["serial", "hid", "hid_pos"]
DisplayKind = Literal["vfd", "price"]
SCANNER_KINDS: tuple[ScannerKind, ...] = ("serial", "hid", "hid_pos")
DISPLAY_KINDS: tuple[DisplayKind, ...] = ("vfd", "price")
HID_POS_LAYOUTS = ("honeywell", "newland")
_PORT_PATH = re.compile(r"^\d+-\d+(\.\d+)*$")
_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class ScannerConfig:
    """One barcode scanner: serial (a tty), hid (boot keyboard reports) or hid_pos (page 0x8C).

    A HID scanner is read from `device` (/dev/hidraw*, or a FIFO for the simulator) or found by
    `vendor_id`/`product_id` and `serial` or `port_path` among the hidraw devices, never by
    number. `terminator` is CR/LF/CRLF/TAB/NONE for serial, enter/tab/none for hid.
    """

    id: str
    kind: ScannerKind
    name: str = ""
    device: str | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    serial: str | None = None
    port_path: str | None = None
    baudrate: int = 9600
    terminator: str = "CR"
    idle_timeout_ms: int | None = None
    report_id: int | None = None
    layout: str = "honeywell"
    report_size: int = 64
    encoding: str | None = None
    min_len: int = 1
    max_len: int = 4096

    @property
    def by_usb(self) -> bool:
        """True when the scanner is found by its USB identity rather than a path."""
        return self.device is None


@dataclass(frozen=True)
class DisplayConfig:
    """One customer display (客显) on a serial port: a 2×20 VFD or an LED price display."""

    id: str
    kind: DisplayKind
    device: str
    name: str = ""
    baudrate: int = 9600
    encoding: str = "gb18030"


@dataclass(frozen=True)
class DiscoveryConfig:
    """What the box looks for and how often; zeroconf binds only to `interfaces` (loopback)."""

    usb: bool = True
    serial: bool = True
    rescan_interval_s: float = 3.0
    uevents: bool = True
    zeroconf: bool = True
    advertise: bool = True
    interfaces: tuple[str, ...] = ("127.0.0.1",)


def _check_id(r: _Reader, value: str, path: str, seen: set[str], what: str) -> None:
    if value and not _ID_CHARS.match(value):
        r.errors.append(f"{path}.id: only letters, digits, - and _")
    if value in seen:
        r.errors.append(f"{path}.id: duplicate {what} id {value!r}")
    seen.add(value)


def _optional_text(r: _Reader, raw: Mapping[str, object], key: str, path: str) -> str | None:
    if raw.get(key) is None:
        return None
    value = r.text(raw, key, path)
    if value == "":
        r.errors.append(f"{path}.{key}: must not be empty (leave it out instead)")
        return None
    return value


def _optional_int(r: _Reader, raw: Mapping[str, object], key: str, path: str, lo: int,
                  hi: int) -> int | None:
    return None if raw.get(key) is None else r.integer(raw, key, path, None, lo, hi)


def _encoding(r: _Reader, raw: Mapping[str, object], path: str, default: str | None) -> str | None:
    value = _optional_text(r, raw, "encoding", path)
    if value is None:
        return default
    try:
        codecs.lookup(value)
    except LookupError:
        r.errors.append(f"{path}.encoding: unknown encoding {value!r}")
        return default
    return value


def _table_list(r: _Reader, raw: Mapping[str, object], key: str) -> list[object]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        r.errors.append(f"{key}: must be an array of tables ([[{key}]])")
        return []
    return value


_SCANNER_KEYS = {"id", "name", "kind", "device", "vendor_id", "product_id", "serial", "port_path",
                 "baudrate", "terminator", "idle_timeout_ms", "report_id", "layout",
                 "report_size", "encoding", "min_len", "max_len"}
_BY_KIND = {"serial": {"baudrate", "terminator", "idle_timeout_ms"},
            "hid": {"terminator", "idle_timeout_ms", "report_id"},
            "hid_pos": {"layout", "report_size"}}
_USB_KEYS = {"vendor_id", "product_id", "serial", "port_path"}


def _scanner(r: _Reader, s: Mapping[str, object], path: str, sid: str) -> ScannerConfig | None:
    before = len(r.errors)
    kind_text = r.text(s, "kind", path, required=True)
    kind = next((k for k in SCANNER_KINDS if k == kind_text), None)
    if kind is None:
        if kind_text:
            r.errors.append(f"{path}.kind: must be one of {', '.join(SCANNER_KINDS)}")
        return None
    other_kinds = set().union(*_BY_KIND.values()) - _BY_KIND[kind]
    r.unknown(s, path, _SCANNER_KEYS - other_kinds - (_USB_KEYS if kind == "serial" else set()))
    device = _optional_text(r, s, "device", path)
    vendor = _optional_int(r, s, "vendor_id", path, 0, 0xFFFF)
    product = _optional_int(r, s, "product_id", path, 0, 0xFFFF)
    serial = _optional_text(r, s, "serial", path)
    port_path = _optional_text(r, s, "port_path", path)
    if port_path is not None and not _PORT_PATH.match(port_path):
        r.errors.append(f"{path}.port_path: {port_path!r} is not a port path like 1-1.4")
    usb_given = any(s.get(k) is not None for k in _USB_KEYS)
    if device is not None and usb_given:
        r.errors.append(f"{path}.device: give either device or vendor_id/product_id, not both")
    elif s.get("device") is None and kind == "serial":
        r.errors.append(f"{path}.device: is required (prefer a /dev/serial/by-id/… name)")
    elif s.get("device") is None and (vendor is None or product is None):
        r.errors.append(f"{path}.device: give device (/dev/hidraw…) or vendor_id and product_id")
    default_term = "CR" if kind == "serial" else "enter"
    terminator = r.text(s, "terminator", path, default_term)
    names = TERMINATORS if kind == "serial" else KEYBOARD_TERMINATORS
    if kind != "hid_pos" and terminator.upper() not in {n.upper() for n in names}:
        r.errors.append(f"{path}.terminator: must be one of {', '.join(names)}")
    terminator = terminator.upper() if kind == "serial" else terminator.lower()
    idle = _optional_int(r, s, "idle_timeout_ms", path, 1, 60_000)
    if kind != "hid_pos" and terminator in ("NONE", "none") and idle is None:
        r.errors.append(f"{path}.idle_timeout_ms: is required when terminator is none")
    layout = r.text(s, "layout", path, "honeywell")
    if layout not in HID_POS_LAYOUTS:
        r.errors.append(f"{path}.layout: must be one of {', '.join(HID_POS_LAYOUTS)}")
    max_len = r.integer(s, "max_len", path, 4096, 1, 65536)
    cfg = ScannerConfig(
        id=sid, kind=kind, name=r.text(s, "name", path, ""), device=device, vendor_id=vendor,
        product_id=product, serial=serial, port_path=port_path,
        baudrate=r.integer(s, "baudrate", path, 9600, 1200, 921600), terminator=terminator,
        idle_timeout_ms=idle, report_id=_optional_int(r, s, "report_id", path, 1, 255),
        layout=layout, report_size=r.integer(s, "report_size", path, 64, 8, 1024),
        encoding=_encoding(r, s, path, None),
        min_len=r.integer(s, "min_len", path, 1, 1, max_len), max_len=max_len)
    return cfg if len(r.errors) == before else None


def parse_scanners(r: _Reader, raw: Mapping[str, object]) -> tuple[ScannerConfig, ...]:
    """The `[[scanners]]` array; errors go to the reader with their dotted keys."""
    out: list[ScannerConfig] = []
    seen: set[str] = set()
    for i, s in enumerate(_table_list(r, raw, "scanners")):
        path = f"scanners[{i}]"
        if not isinstance(s, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        sid = r.text(s, "id", path, required=True)
        _check_id(r, sid, path, seen, "scanner")
        cfg = _scanner(r, s, path, sid)
        if cfg is not None:
            out.append(cfg)
    return tuple(out)


def parse_displays(r: _Reader, raw: Mapping[str, object]) -> tuple[DisplayConfig, ...]:
    """The `[[displays]]` array (serial customer displays)."""
    out: list[DisplayConfig] = []
    seen: set[str] = set()
    for i, d in enumerate(_table_list(r, raw, "displays")):
        path = f"displays[{i}]"
        if not isinstance(d, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        before = len(r.errors)
        r.unknown(d, path, {"id", "name", "kind", "device", "baudrate", "encoding"})
        did = r.text(d, "id", path, required=True)
        _check_id(r, did, path, seen, "display")
        kind_text = r.text(d, "kind", path, "vfd")
        kind = next((k for k in DISPLAY_KINDS if k == kind_text), None)
        if kind is None:
            r.errors.append(f"{path}.kind: must be one of {', '.join(DISPLAY_KINDS)}")
            continue
        cfg = DisplayConfig(did, kind, r.text(d, "device", path, required=True),
                            r.text(d, "name", path, ""),
                            r.integer(d, "baudrate", path, 9600, 1200, 921600),
                            _encoding(r, d, path, "gb18030") or "gb18030")
        if len(r.errors) == before:
            out.append(cfg)
    return tuple(out)


def parse_discovery(r: _Reader, raw: Mapping[str, object]) -> DiscoveryConfig:
    """The `[discovery]` table; zeroconf interfaces must be IP addresses (default loopback)."""
    d = r.table(raw, "discovery", "discovery")
    r.unknown(d, "discovery", {"usb", "serial", "rescan_interval_s", "uevents", "zeroconf",
                               "advertise", "interfaces"})
    interfaces: tuple[str, ...] = ("127.0.0.1",)
    given = d.get("interfaces")
    if given is not None:
        if not isinstance(given, list) or not given or not all(isinstance(x, str) for x in given):
            r.errors.append("discovery.interfaces: must be a non-empty list of IP addresses")
        else:
            for i, addr in enumerate(given):
                try:
                    ipaddress.ip_address(addr)
                except ValueError:
                    r.errors.append(f"discovery.interfaces[{i}]: {addr!r} is not an IP address")
            interfaces = tuple(given)
    return DiscoveryConfig(
        usb=r.flag(d, "usb", "discovery", True), serial=r.flag(d, "serial", "discovery", True),
        rescan_interval_s=r.number(d, "rescan_interval_s", "discovery", 3.0, 0.2, 3600.0),
        uevents=r.flag(d, "uevents", "discovery", True),
        zeroconf=r.flag(d, "zeroconf", "discovery", True),
        advertise=r.flag(d, "advertise", "discovery", True), interfaces=interfaces)
