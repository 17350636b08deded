"""The `[[scanners]]`, `[[displays]]` and `[discovery]` tables of the box configuration."""

from __future__ import annotations

import codecs
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, TypeVar

from msgspec import Meta

from drivers.scanner.framing import TERMINATORS
from drivers.scanner.hid import KEYBOARD_TERMINATORS
from validation import Problem, Schema
from validation.decode import collect, collect_items

C = TypeVar("C")

ScannerKind = Literal["serial", "hid", "hid_pos"]
DisplayKind = Literal["vfd", "price"]
SCANNER_KINDS: tuple[ScannerKind, ...] = ("serial", "hid", "hid_pos")
DISPLAY_KINDS: tuple[DisplayKind, ...] = ("vfd", "price")
HID_POS_LAYOUTS = ("honeywell", "newland")
_PORT_PATH = re.compile(r"^\d+-\d+(\.\d+)*$")


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


Id = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]+$",
                         extra={"reason": "only letters, digits, - and _"})]
Given = Annotated[str, Meta(min_length=1, extra={"reason": "must not be empty (leave it out "
                                                             "instead)"})]
Baud = Annotated[int, Meta(ge=1200, le=921600)]
Length = Annotated[int, Meta(ge=1, le=65536)]
IdleMs = Annotated[int, Meta(ge=1, le=60_000)]
UsbId = Annotated[int, Meta(ge=0, le=0xFFFF)]


class _ScannerTable(Schema, frozen=True, kw_only=True):
    id: Id
    name: str = ""
    device: Given | None = None
    encoding: Given | None = None
    min_len: Length = 1
    max_len: Length = 4096


class _UsbScannerTable(_ScannerTable, frozen=True, kw_only=True):
    vendor_id: UsbId | None = None
    product_id: UsbId | None = None
    serial: Given | None = None
    port_path: Given | None = None


class SerialScanner(_ScannerTable, frozen=True, kw_only=True, tag_field="kind", tag="serial"):
    """`[[scanners]]` with `kind = "serial"`."""

    baudrate: Baud = 9600
    terminator: str = "CR"
    idle_timeout_ms: IdleMs | None = None


class HidScanner(_UsbScannerTable, frozen=True, kw_only=True, tag_field="kind", tag="hid"):
    """`[[scanners]]` with `kind = "hid"` (boot keyboard reports)."""

    terminator: str = "enter"
    idle_timeout_ms: IdleMs | None = None
    report_id: Annotated[int, Meta(ge=1, le=255)] | None = None


class HidPosScanner(_UsbScannerTable, frozen=True, kw_only=True, tag_field="kind", tag="hid_pos"):
    """`[[scanners]]` with `kind = "hid_pos"` (usage page 0x8C)."""

    layout: Literal["honeywell", "newland"] = "honeywell"
    report_size: Annotated[int, Meta(ge=8, le=1024)] = 64


ScannerTable = SerialScanner | HidScanner | HidPosScanner


class DisplayTable(Schema, frozen=True, kw_only=True):
    """`[[displays]]`."""

    id: Id
    device: Annotated[str, Meta(min_length=1)]
    kind: DisplayKind = "vfd"
    name: str = ""
    baudrate: Baud = 9600
    encoding: str = "gb18030"


class DiscoveryTable(Schema, frozen=True, kw_only=True):
    """`[discovery]`."""

    usb: bool = True
    serial: bool = True
    rescan_interval_s: Annotated[float, Meta(ge=0.2, le=3600.0)] = 3.0
    uevents: bool = True
    zeroconf: bool = True
    advertise: bool = True
    interfaces: Annotated[tuple[str, ...], Meta(
        min_length=1, extra={"reason": "must be a non-empty list of IP addresses"})] = \
        ("127.0.0.1",)


def _text(raw: object, key: str) -> str | None:
    v = raw.get(key) if isinstance(raw, Mapping) else None
    return v if isinstance(v, str) else None


def _check_id(raw: object, path: str, seen: set[str], what: str, problems: list[Problem]
              ) -> None:
    value = _text(raw, "id")
    if value is None:
        return
    if value in seen:
        problems.append(Problem(f"{path}.id", f"duplicate {what} id {value!r}"))
    seen.add(value)


def _encoding(value: str | None, path: str, problems: list[Problem]) -> None:
    if value is None:
        return
    try:
        codecs.lookup(value)
    except LookupError:
        problems.append(Problem(f"{path}.encoding", f"unknown encoding {value!r}"))


def _scanner_rules(s: Mapping[str, object], path: str, problems: list[Problem]) -> None:
    """The rules between keys of one scanner table (its types are the schema's)."""
    kind = s.get("kind")
    usb_given = any(s.get(k) is not None for k in _USB_KEYS)
    port_path = _text(s, "port_path")
    if port_path and not _PORT_PATH.match(port_path):
        problems.append(Problem(f"{path}.port_path",
                                f"{port_path!r} is not a port path like 1-1.4"))
    if s.get("device") is not None and usb_given and kind != "serial":
        problems.append(Problem(f"{path}.device",
                                "give either device or vendor_id/product_id, not both"))
    elif s.get("device") is None and kind == "serial":
        problems.append(Problem(f"{path}.device",
                                "is required (prefer a /dev/serial/by-id/… name)"))
    elif s.get("device") is None and kind in ("hid", "hid_pos") and (
            s.get("vendor_id") is None or s.get("product_id") is None):
        problems.append(Problem(f"{path}.device",
                                "give device (/dev/hidraw…) or vendor_id and product_id"))
    if kind in ("serial", "hid"):
        terminator = _text(s, "terminator") or ("CR" if kind == "serial" else "enter")
        names = TERMINATORS if kind == "serial" else KEYBOARD_TERMINATORS
        if terminator.upper() not in {n.upper() for n in names}:
            problems.append(Problem(f"{path}.terminator",
                                    f"must be one of {', '.join(names)}"))
        elif terminator.upper() == "NONE" and s.get("idle_timeout_ms") is None:
            problems.append(Problem(f"{path}.idle_timeout_ms",
                                    "is required when terminator is none"))
    _encoding(_text(s, "encoding"), path, problems)
    lo, hi = s.get("min_len", 1), s.get("max_len", 4096)
    if type(lo) is int and type(hi) is int and 1 <= hi <= 65536 and not 1 <= lo <= hi:
        problems.append(Problem(f"{path}.min_len", f"must be 1-{hi}"))


_USB_KEYS = ("vendor_id", "product_id", "serial", "port_path")


def _scanner_config(t: ScannerTable) -> ScannerConfig:
    base = ScannerConfig(id=t.id, kind="serial", name=t.name, device=t.device,
                         encoding=t.encoding, min_len=t.min_len, max_len=t.max_len)
    if isinstance(t, SerialScanner):
        return replace(base, baudrate=t.baudrate, terminator=t.terminator.upper(),
                       idle_timeout_ms=t.idle_timeout_ms)
    usb = replace(base, vendor_id=t.vendor_id, product_id=t.product_id, serial=t.serial,
                  port_path=t.port_path)
    if isinstance(t, HidScanner):
        return replace(usb, kind="hid", terminator=t.terminator.lower(),
                       idle_timeout_ms=t.idle_timeout_ms, report_id=t.report_id)
    return replace(usb, kind="hid_pos", terminator="enter", layout=t.layout,
                   report_size=t.report_size)


def _parse_devices(raw: Mapping[str, object], key: str, schema: Any, what: str,
                   problems: list[Problem], rules: Callable[[object, str], None],
                   build: Callable[[Any], C]) -> tuple[C, ...]:
    """The `[[key]]` array of `what`s: ids unique, each item checked by `rules` (item, dotted
    path); an item with no problem of its own is `build`."""
    out: list[C] = []
    seen: set[str] = set()
    for i, (item, table) in enumerate(collect_items(raw.get(key), schema, problems, key)):
        path = f"{key}[{i}]"
        before = len(problems)
        _check_id(item, path, seen, what, problems)
        rules(item, path)
        if table is not None and len(problems) == before:
            out.append(build(table))
    return tuple(out)


def parse_scanners(raw: Mapping[str, object], problems: list[Problem]
                   ) -> tuple[ScannerConfig, ...]:
    """The `[[scanners]]` array; every problem is appended with its dotted key."""
    def rules(item: object, path: str) -> None:
        if isinstance(item, Mapping):
            _scanner_rules(item, path, problems)
    return _parse_devices(raw, "scanners", ScannerTable, "scanner", problems, rules,
                          _scanner_config)


def parse_displays(raw: Mapping[str, object], problems: list[Problem]
                   ) -> tuple[DisplayConfig, ...]:
    """The `[[displays]]` array (serial customer displays)."""
    return _parse_devices(
        raw, "displays", DisplayTable, "display", problems,
        lambda item, path: _encoding(_text(item, "encoding"), path, problems),
        lambda d: DisplayConfig(d.id, d.kind, d.device, d.name, d.baudrate, d.encoding))


def parse_discovery(raw: Mapping[str, object], problems: list[Problem]) -> DiscoveryConfig:
    """The `[discovery]` table; zeroconf interfaces must be IP addresses (default loopback)."""
    d = collect(raw.get("discovery", {}), DiscoveryTable, problems, "discovery")
    given = raw.get("discovery", {})
    addresses = given.get("interfaces") if isinstance(given, Mapping) else None
    for i, addr in enumerate(addresses if isinstance(addresses, list) else ()):
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            problems.append(Problem(f"discovery.interfaces[{i}]", f"{addr!r} is not an IP "
                                                                   "address"))
    if d is None:
        return DiscoveryConfig()
    return DiscoveryConfig(d.usb, d.serial, d.rescan_interval_s, d.uevents, d.zeroconf,
                           d.advertise, d.interfaces)
