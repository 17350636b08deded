"""Reading what is attached: USB through pyusb, /dev/serial/by-id names, hidraw nodes in sysfs.

Blocking (run in a thread). Nothing here opens a serial port or claims a USB interface:
enumeration reads descriptors and strings only; serial ports are listed, never probed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import usb.core
import usb.util

from agent import AgentError
from agent.config import Config
from agent.devices.classify import (
    CLASS_HID,
    CLASS_PRINTER,
    USAGE_PAGE_BARCODE_SCANNER,
    UsbDescriptor,
    UsbInterface,
    hid_usage_pages,
)
from agent.devices.config import ScannerConfig
from agent.devices.matching import NetService, SerialEntry, Wanted, match_usb, wanted_from_config
from agent.devices.report import DeviceReport, build_report
from drivers.transports.usb import port_path_of, serial_of

_CTRL_TIMEOUT_MS = 500
_USB_ERRORS = (usb.core.USBError, ValueError, NotImplementedError, IndexError)


class DeviceNotFoundError(AgentError):
    """A device configured by its USB identity is not attached, or not only once."""


@dataclass(frozen=True)
class DeviceEnv:
    """Where the host's devices are: a pyusb backend (None: libusb) and the sysfs / dev roots."""

    usb_backend: Any = None
    serial_dir: Path = Path("/dev/serial/by-id")
    sysfs: Path = Path("/sys")
    dev_dir: Path = Path("/dev")


def _string(dev: Any, index: int) -> str | None:
    if not index:
        return None
    try:
        return str(usb.util.get_string(dev, index))
    except _USB_ERRORS:
        return None


def _device_id(dev: Any, intf: UsbInterface) -> str | None:
    """The IEEE 1284 device id (printer class GET_DEVICE_ID): 2-byte big-endian length first."""
    try:
        data = bytes(dev.ctrl_transfer(0xA1, 0x00, 0, intf.number << 8, 1024,
                                       timeout=_CTRL_TIMEOUT_MS))
    except _USB_ERRORS:
        return None
    if len(data) < 2:
        return None
    length = min(int.from_bytes(data[:2], "big"), len(data))
    return data[2:length].decode("latin-1").strip("\x00") or None


def _report_pages(dev: Any, number: int) -> tuple[int, ...]:
    try:  # GET_DESCRIPTOR (HID report, type 0x22) addressed to the interface
        data = bytes(dev.ctrl_transfer(0x81, 0x06, 0x2200, number, 4096,
                                       timeout=_CTRL_TIMEOUT_MS))
    except _USB_ERRORS:
        return ()
    return hid_usage_pages(data)


def describe_usb(dev: Any) -> UsbDescriptor:
    """A pyusb Device's descriptors, strings, 1284 id and HID usage pages (best effort)."""
    interfaces: list[UsbInterface] = []
    with contextlib.suppress(*_USB_ERRORS):
        for intf in dev[0]:
            if intf.bAlternateSetting == 0:
                interfaces.append(UsbInterface(int(intf.bInterfaceNumber),
                                               int(intf.bInterfaceClass),
                                               int(intf.bInterfaceSubClass),
                                               int(intf.bInterfaceProtocol)))
    try:
        serial = serial_of(dev)
    except _USB_ERRORS:
        serial = None
    device_id = None
    described: list[UsbInterface] = []
    for i in interfaces:
        if i.cls == CLASS_PRINTER and device_id is None:
            device_id = _device_id(dev, i)
        described.append(UsbInterface(i.number, i.cls, i.subclass, i.protocol,
                                      _report_pages(dev, i.number)) if i.cls == CLASS_HID else i)
    out = UsbDescriptor(int(dev.idVendor), int(dev.idProduct), serial, port_path_of(dev),
                        _string(dev, dev.iManufacturer), _string(dev, dev.iProduct),
                        int(dev.bDeviceClass), tuple(described), device_id, dev.bus, dev.address)
    with contextlib.suppress(*_USB_ERRORS):
        usb.util.dispose_resources(dev)
    return out


def read_usb(backend: Any = None) -> tuple[list[UsbDescriptor], str]:
    """Every attached USB device described, and how the read went (for `sources`)."""
    if backend is None:
        # libusb 1.0 by name: pyusb's own search would load its libusb0 and OpenUSB modules on
        # every box, for systems this one is not (it falls back to them if libusb 1.0 is absent).
        from usb.backend import libusb1

        backend = libusb1.get_backend()
    try:
        devices = list(usb.core.find(find_all=True, backend=backend))
    except usb.core.NoBackendError:
        return [], "unavailable: no libusb on this system (install libusb-1.0-0)"
    except usb.core.USBError as e:
        return [], f"unavailable: {e}"
    found = [describe_usb(d) for d in devices]
    return found, f"ok: {len(found)} device(s)"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None


def usb_device_dir(path: Path) -> Path | None:
    """The sysfs directory of the USB device above `path` (the first with an idVendor file)."""
    for p in (path, *path.parents):
        if (p / "idVendor").is_file():
            return p
        if p.name in ("devices", "sys", "/"):
            break
    return None


def list_serial_by_id(directory: Path, sysfs: Path) -> list[SerialEntry]:
    """The /dev/serial/by-id names with their ttys and USB ports; the ports are not opened."""
    try:
        names = sorted(directory.iterdir())
    except OSError:
        return []
    out: list[SerialEntry] = []
    for entry in names:
        target = os.path.realpath(entry)
        usb_dir = usb_device_dir(Path(os.path.realpath(sysfs / "class/tty" / Path(target).name
                                                        / "device")))
        out.append(SerialEntry(str(entry), target, usb_dir.name if usb_dir else None))
    return out


@dataclass(frozen=True)
class HidrawNode:
    """A /dev/hidraw* node, the USB device it belongs to and the interface it reads."""

    name: str
    device: UsbDescriptor
    interface: UsbInterface


def _hex(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def list_hidraw(sysfs: Path) -> list[HidrawNode]:
    """Every hidraw node whose device is on USB, read from sysfs (no device is opened)."""
    try:
        nodes = sorted((sysfs / "class/hidraw").iterdir())
    except OSError:
        return []
    out: list[HidrawNode] = []
    for node in nodes:
        hid_dir = Path(os.path.realpath(node / "device"))
        usb_dir = usb_device_dir(hid_dir)
        vendor, product = (_hex(usb_dir / "idVendor"), _hex(usb_dir / "idProduct")) \
            if usb_dir else (None, None)
        if usb_dir is None or vendor is None or product is None:
            continue
        intf_dir = hid_dir.parent
        try:
            pages = hid_usage_pages((hid_dir / "report_descriptor").read_bytes())
        except OSError:
            pages = ()
        intf = UsbInterface(_hex(intf_dir / "bInterfaceNumber") or 0,
                            _hex(intf_dir / "bInterfaceClass") or CLASS_HID,
                            _hex(intf_dir / "bInterfaceSubClass") or 0,
                            _hex(intf_dir / "bInterfaceProtocol") or 0, pages)
        device = UsbDescriptor(vendor, product, _read(usb_dir / "serial") or None, usb_dir.name,
                               _read(usb_dir / "manufacturer"), _read(usb_dir / "product"))
        out.append(HidrawNode(node.name, device, intf))
    return out


def find_hidraw(scanner: ScannerConfig, nodes: Sequence[HidrawNode], dev_dir: Path) -> Path:
    """The hidraw node of a scanner configured by USB identity; DeviceNotFoundError otherwise.

    The device is picked by serial number or port path (matching.match_usb); of its HID
    interfaces, a hid scanner reads the boot keyboard, a hid_pos scanner the 0x8C one.
    """
    wanted = Wanted(f"scanners.{scanner.id}", "scanner", "usb", scanner.vendor_id or 0,
                    scanner.product_id or 0, scanner.serial, scanner.port_path)
    devices = list({n.device.key: n.device for n in nodes}.values())
    m = match_usb(wanted, devices)
    if m.state != "matched":
        raise DeviceNotFoundError(f"scanner {scanner.id}: {m.why}")
    mine = sorted((n for n in nodes if n.device.key == m.key), key=lambda n: n.interface.number)
    if scanner.kind == "hid_pos":
        pick = [n for n in mine if USAGE_PAGE_BARCODE_SCANNER in n.interface.usage_pages]
    else:
        pick = [n for n in mine if n.interface.boot_keyboard]
    chosen = pick[0] if pick else mine[0] if len(mine) == 1 else None
    if chosen is None:
        raise DeviceNotFoundError(
            f"scanner {scanner.id}: {len(mine)} HID interfaces on {m.key} and none is "
            f"{'usage page 0x8C' if scanner.kind == 'hid_pos' else 'a boot keyboard'}")
    return dev_dir / chosen.name


def configured_paths(wanted: Sequence[Wanted]) -> dict[str, str | None]:
    """Each configured device path resolved to its real path (None when it does not exist)."""
    return {w.path: os.path.realpath(w.path) if os.path.exists(w.path) else None
            for w in wanted if w.path is not None}


def scan_devices(config: Config, env: DeviceEnv, services: Sequence[NetService],
                 now_ms: int, network_status: str = "off") -> DeviceReport:
    """One full scan for `config`: USB, serial by-id, configured paths, plus `services`."""
    d = config.discovery
    sources: dict[str, str] = {"network": network_status}
    usb_found: list[UsbDescriptor] = []
    if d.usb:
        usb_found, sources["usb"] = read_usb(env.usb_backend)
    else:
        sources["usb"] = "off"
    serial: list[SerialEntry] = []
    if d.serial:
        serial = list_serial_by_id(env.serial_dir, env.sysfs)
        sources["serial"] = f"ok: {len(serial)} port(s) in {env.serial_dir}"
    else:
        sources["serial"] = "off"
    wanted = wanted_from_config(config)
    return build_report(wanted, usb_found, serial, services, configured_paths(wanted), sources,
                        now_ms)
