"""Which found device is which configured one: by serial number, by-id name or port — never order.

Pure functions over values: the configuration's wanted devices and what a scan found. The USB
rules are those of `drivers.transports.usb.UsbTransport` (which opens the device), so the
report and the printer's connection always agree on which unit is meant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from agent.config import Config
from agent.devices.classify import UsbDescriptor
from drivers.transports.file import FileTarget
from drivers.transports.serial_port import SerialTarget
from drivers.transports.tcp import TcpTarget
from drivers.transports.usb import UsbTarget

Role = Literal["printer", "scanner", "display", "scale"]
WantedBus = Literal["usb", "serial", "path", "tcp"]
MatchState = Literal["matched", "missing", "ambiguous", "present", "unchecked"]


@dataclass(frozen=True)
class Wanted:
    """One configured device and the identity it is to be found by."""

    ref: str  # "printers.front", "scanners.till", "displays.pole"
    role: Role
    bus: WantedBus
    vendor_id: int = 0
    product_id: int = 0
    serial: str | None = None
    port_path: str | None = None
    path: str | None = None
    host: str | None = None
    port: int | None = None

    @property
    def identity(self) -> str:
        """How the configuration names the device, for people."""
        if self.bus == "usb":
            extra = (f" serial {self.serial}" if self.serial else "") + (
                f" port {self.port_path}" if self.port_path else "")
            return f"usb {self.vendor_id:04x}:{self.product_id:04x}{extra}"
        if self.bus == "tcp":
            return f"tcp {self.host}:{self.port}"
        return f"{self.bus} {self.path}"


@dataclass(frozen=True)
class Match:
    """The outcome for one wanted device: its state, the found device's key, and why."""

    state: MatchState
    key: str | None
    why: str


@dataclass(frozen=True)
class SerialEntry:
    """A /dev/serial/by-id name, the tty it points to, and the USB port behind it (sysfs)."""

    path: str
    target: str
    port_path: str | None = None

    @property
    def key(self) -> str:
        """"serial:/dev/serial/by-id/…"."""
        return f"serial:{self.path}"


@dataclass(frozen=True)
class NetService:
    """One zeroconf service instance: type, instance name, address, port and TXT record."""

    type: str
    name: str
    host: str
    port: int
    txt: Mapping[str, str]

    @property
    def key(self) -> str:
        """"net:192.168.1.60" — a printer's services are grouped by its address."""
        return f"net:{self.host}"


def wanted_from_config(config: Config) -> list[Wanted]:
    """Every configured printer, scanner and display with the identity to look for."""
    out: list[Wanted] = []
    for p in config.printers:
        ref, t = f"printers.{p.id}", p.target
        if isinstance(t, UsbTarget):
            out.append(Wanted(ref, "printer", "usb", t.vendor_id, t.product_id, t.serial,
                              t.port_path))
        elif isinstance(t, SerialTarget):
            out.append(Wanted(ref, "printer", "serial", path=t.device))
        elif isinstance(t, TcpTarget):
            out.append(Wanted(ref, "printer", "tcp", host=t.host, port=t.port))
        elif isinstance(t, FileTarget):
            out.append(Wanted(ref, "printer", "path", path=t.path))
    for s in config.scanners:
        ref = f"scanners.{s.id}"
        if s.device is None:
            out.append(Wanted(ref, "scanner", "usb", s.vendor_id or 0, s.product_id or 0,
                              s.serial, s.port_path))
        else:
            out.append(Wanted(ref, "scanner", "serial" if s.kind == "serial" else "path",
                              path=s.device))
    out += [Wanted(f"displays.{d.id}", "display", "serial", path=d.device)
            for d in config.displays]
    out += [Wanted(f"scales.{s.id}", "scale", "serial", path=s.device) for s in config.scales]
    return out


def _listing(devices: Sequence[UsbDescriptor]) -> str:
    return "; ".join(f"serial={d.serial or '?'} port={d.port_path or '?'}" for d in devices)


def match_usb(w: Wanted, found: Sequence[UsbDescriptor]) -> Match:
    """Find `w` by vendor, product and serial number; the port path when the serial cannot say."""
    ids = f"{w.vendor_id:04x}:{w.product_id:04x}"
    # Sorted by identity, so nothing below can depend on the order of enumeration.
    same = sorted((d for d in found if (d.vendor_id, d.product_id) == (w.vendor_id,
                                                                      w.product_id)),
                  key=lambda d: (d.serial or "", d.port_path or ""))
    if not same:
        return Match("missing", None, f"no USB device {ids} is attached")
    if w.serial is not None:
        by_serial = [d for d in same if d.serial == w.serial]
        if len(by_serial) == 1:
            d = by_serial[0]
            return Match("matched", d.key, f"vendor {w.vendor_id:04x}, product "
                         f"{w.product_id:04x} and serial number {w.serial} (at port "
                         f"{d.port_path or '?'})")
        if by_serial:
            chosen = [d for d in by_serial if w.port_path and d.port_path == w.port_path]
            if chosen:
                return Match("matched", chosen[0].key, f"serial number {w.serial} is shared by "
                             f"{len(by_serial)} devices; port path {w.port_path} picks this one")
            return Match("ambiguous", None, f"{len(by_serial)} devices {ids} report serial "
                         f"{w.serial} ({_listing(by_serial)}): add port_path")
        # The port decides only for a device with no serial number: another serial is another
        # device.
        fallback = [d for d in same if d.serial is None and w.port_path
                    and d.port_path == w.port_path]
        if fallback:
            return Match("matched", fallback[0].key, f"port path {w.port_path} (the device "
                         "reports no serial number)")
        return Match("missing", None, f"no USB device {ids} with serial {w.serial}; attached: "
                     f"{_listing(same)}")
    if w.port_path is not None:
        at = [d for d in same if d.port_path == w.port_path]
        if at:
            return Match("matched", at[0].key, f"vendor {w.vendor_id:04x}, product "
                         f"{w.product_id:04x} at port path {w.port_path}")
        return Match("missing", None, f"no USB device {ids} at port {w.port_path}; attached: "
                     f"{_listing(same)}")
    if len(same) == 1:
        return Match("matched", same[0].key, f"the only {ids} attached (add its serial number "
                     "to tell it from a second identical one)")
    return Match("ambiguous", None, f"{len(same)} devices {ids} are attached "
                 f"({_listing(same)}): set serial or port_path")


def match_path(w: Wanted, entries: Sequence[SerialEntry],
               paths: Mapping[str, str | None]) -> Match:
    """A configured device path: a by-id name, a kernel name behind one, or just present.

    `paths` maps each configured path to its resolved real path (None: it does not exist).
    """
    path = w.path or ""
    for e in entries:
        if e.path == path:
            return Match("matched", e.key, "by its /dev/serial/by-id name (stable across "
                         "re-plugging)")
    real = paths.get(path)
    if real is None:
        return Match("missing", None, f"{path} does not exist")
    for e in sorted(entries, key=lambda e: e.path):
        if e.target == real:
            return Match("matched", e.key, f"{path} is {e.path}; a kernel name can change "
                         "after a re-plug: configure the by-id name")
    if w.bus == "serial":
        return Match("present", None, f"{path} exists (not a USB serial port of "
                     "/dev/serial/by-id: a built-in UART or a pseudo-terminal)")
    return Match("present", None, f"{path} exists")


def match_tcp(w: Wanted, services: Sequence[NetService]) -> Match:
    """A network printer: matched if its address advertises itself, else unchecked."""
    at_host = sorted((s for s in services if s.host == w.host), key=lambda s: (s.type, s.name))
    exact = [s for s in at_host if s.port == w.port]
    if exact:
        return Match("matched", exact[0].key, f"advertised as {exact[0].name!r} "
                     f"({exact[0].type.removesuffix('.local.')}) on port {w.port}")
    if at_host:
        kinds = ", ".join(sorted({s.type.removesuffix(".local.") for s in at_host}))
        return Match("matched", at_host[0].key, f"{w.host} advertises {kinds}")
    return Match("unchecked", None, "not advertised on the network (printers need not be); "
                 "GET /v1/printers shows whether it answers")


def resolve_conflicts(matches: Mapping[str, Match]) -> dict[str, Match]:
    """Two configured devices matched to one found device: both become ambiguous."""
    claims: dict[str, list[str]] = {}
    for ref, m in matches.items():
        if m.state == "matched" and m.key is not None and not m.key.startswith("net:"):
            claims.setdefault(m.key, []).append(ref)
    out = dict(matches)
    for key, refs in claims.items():
        if len(refs) > 1:
            for ref in refs:
                others = ", ".join(r for r in refs if r != ref)
                out[ref] = Match("ambiguous", key, f"{matches[ref].why}; but {others} matches "
                                 "the same device: give each a serial number or port path")
    return out
