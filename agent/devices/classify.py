"""What a USB device is, from its descriptors alone: printer, scanner, serial port — and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["printer", "scanner", "keyboard", "serial_port", "other"]

CLASS_CDC, CLASS_HID, CLASS_PRINTER, CLASS_HUB, CLASS_CDC_DATA = 0x02, 0x03, 0x07, 0x09, 0x0A
USAGE_PAGE_BARCODE_SCANNER = 0x8C

# Makers whose USB vendor id alone says "printer" (with the command set their printers speak).
PRINTER_VENDORS: Mapping[int, tuple[str, str | None]] = {
    0x04B8: ("Epson", "escpos"),
    0x0519: ("Star Micronics", "star"),
    0x1504: ("Bixolon", "escpos"),
    0x0DD4: ("Custom", "escpos"),
    0x154F: ("SNBC", "escpos"),
    0x0A5F: ("Zebra", "zpl"),
    0x1203: ("TSC", "tspl"),
}
# Chip vendors used by many brands: only these exact products are known printers.
PRINTER_PRODUCTS: Mapping[tuple[int, int], tuple[str, str | None]] = {
    (0x0416, 0x5011): ("POS-58/80 receipt printer (Winbond chip: Xprinter, Gprinter, …)",
                       "escpos"),
    (0x0FE6, 0x811E): ("POS-58 receipt printer (ICS Advent chip)", "escpos"),
}
SCANNER_VENDORS: Mapping[int, str] = {
    0x0C2E: "Honeywell (Metrologic / Hand Held Products)",
    0x05E0: "Zebra (Symbol)",
    0x05F9: "Datalogic",
    0x1EAB: "Newland",
}
SERIAL_ADAPTERS: Mapping[int, str] = {
    0x1A86: "WCH CH340/CH341",
    0x067B: "Prolific PL2303",
    0x0403: "FTDI",
    0x10C4: "Silicon Labs CP210x",
}


@dataclass(frozen=True)
class UsbInterface:
    """One interface of the active configuration: number and class / subclass / protocol."""

    number: int
    cls: int
    subclass: int = 0
    protocol: int = 0
    usage_pages: tuple[int, ...] = ()  # from the HID report descriptor, when it was readable

    @property
    def boot_keyboard(self) -> bool:
        """HID class, boot subclass, keyboard protocol: what a keyboard-wedge scanner presents."""
        return (self.cls, self.subclass, self.protocol) == (CLASS_HID, 1, 1)


@dataclass(frozen=True)
class UsbDescriptor:
    """What enumeration read of one attached USB device (no data connection was made)."""

    vendor_id: int
    product_id: int
    serial: str | None = None
    port_path: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    device_class: int = 0
    interfaces: tuple[UsbInterface, ...] = ()
    device_id: str | None = None  # IEEE 1284 device id of a printer-class interface
    bus: int | None = None
    address: int | None = None

    @property
    def ids(self) -> str:
        """"0416:5011"."""
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    @property
    def key(self) -> str:
        """Stable within one attachment: ids, serial and port path; never the address."""
        return f"usb:{self.ids}:{self.serial or ''}@{self.port_path or '?'}"


@dataclass(frozen=True)
class Classification:
    """A device's kind, its detail (command set or scanner interface), maker and the reasons."""

    kind: Kind
    detail: str | None
    maker: str | None
    reasons: tuple[str, ...]


def parse_device_id(text: str) -> dict[str, str]:
    """IEEE 1284 device id "MFG:x;CMD:a,b;MDL:y;" → {"MFG": "x", "CMD": "a,b", …} (keys upper)."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition(":")
        if sep and key.strip():
            fields.setdefault(key.strip().upper(), value.strip())
    return fields


def command_set(fields: Mapping[str, str]) -> tuple[str, str] | None:
    """The (key, value) naming the command set: CMD, COMMAND SET or COMMANDSET."""
    for key in ("CMD", "COMMAND SET", "COMMANDSET"):
        if fields.get(key):
            return key, fields[key]
    return None


def language_of(commands: str) -> str | None:
    """Our language for a 1284 command-set list: escpos, tspl, zpl, star, epl; None if none."""
    for raw in commands.split(","):
        token = raw.strip().upper()
        if "ESC/POS" in token or token == "ESCPOS":
            return "escpos"
        if token.startswith("TSPL"):
            return "tspl"
        if token.startswith("ZPL"):
            return "zpl"
        if token == "STR_T" or token.startswith("STAR"):
            return "star"
        if token.startswith("EPL"):
            return "epl"
    return None


def hid_usage_pages(report_descriptor: bytes) -> tuple[int, ...]:
    """The Usage Page values declared in a HID report descriptor, in order, without repeats.

    Short items (HID 1.11 §6.2.2.2) and long items are skipped by their sizes; a truncated
    descriptor yields the pages before the cut. Never raises.
    """
    pages: list[int] = []
    i, n = 0, len(report_descriptor)
    while i < n:
        prefix = report_descriptor[i]
        if prefix == 0xFE:  # long item: size, tag, data
            if i + 1 >= n:
                break
            i += 3 + report_descriptor[i + 1]
            continue
        size = (0, 1, 2, 4)[prefix & 0x03]
        if i + 1 + size > n:
            break
        if prefix & 0xFC == 0x04 and size:  # global item, tag 0: Usage Page
            page = int.from_bytes(report_descriptor[i + 1 : i + 1 + size], "little")
            if page not in pages:
                pages.append(page)
        i += 1 + size
    return tuple(pages)


def classify(d: UsbDescriptor) -> Classification:
    """Classify by descriptors: IEEE-1284 id, interface classes, then the known-id tables."""
    printer = _printer(d)
    if printer is not None:
        return printer
    scanner_maker = SCANNER_VENDORS.get(d.vendor_id)
    hid = [i for i in d.interfaces if i.cls == CLASS_HID]
    cdc = [i for i in d.interfaces if i.cls in (CLASS_CDC, CLASS_CDC_DATA)]
    boot = [i for i in hid if i.boot_keyboard]
    pos = [i for i in hid if USAGE_PAGE_BARCODE_SCANNER in i.usage_pages]
    maker_reason = (f"vendor {d.vendor_id:04x} is {scanner_maker}, a scanner maker"
                    if scanner_maker else None)
    if pos:
        reasons = [f"interface {pos[0].number}: its HID report descriptor declares usage page "
                   "0x8C (barcode scanner)"]
        return Classification("scanner", "hid_pos", scanner_maker,
                              tuple(([maker_reason] if maker_reason else []) + reasons))
    if scanner_maker and maker_reason:
        if boot:
            return Classification("scanner", "hid", scanner_maker, (
                maker_reason, f"interface {boot[0].number} is a HID boot keyboard "
                "(keyboard-wedge mode)"))
        if cdc:
            return Classification("scanner", "cdc", scanner_maker, (
                maker_reason, f"interface {cdc[0].number} is USB-CDC (serial emulation mode, "
                "/dev/ttyACM*)"))
        if hid:
            return Classification("scanner", "hid", scanner_maker, (
                maker_reason, f"interface {hid[0].number} is HID"))
        return Classification("scanner", None, scanner_maker,
                              (maker_reason, "no HID or CDC interface was read"))
    if boot:
        return Classification("keyboard", "hid", None, (
            f"interface {boot[0].number} is a HID boot keyboard: a keyboard-wedge scanner or "
            "a keyboard (vendor not in the scanner table)",))
    adapter = SERIAL_ADAPTERS.get(d.vendor_id)
    if adapter:
        return Classification("serial_port", "adapter", adapter, (
            f"vendor {d.vendor_id:04x} is {adapter}, a USB-serial adapter (/dev/ttyUSB*); "
            "what is behind it is not probed",))
    acm = [i for i in d.interfaces if i.cls == CLASS_CDC and i.subclass == 2]
    if acm:
        return Classification("serial_port", "cdc", None, (
            f"interface {acm[0].number} is USB-CDC ACM (/dev/ttyACM*); what speaks on it is "
            "not probed",))
    if d.device_class == CLASS_HUB:
        return Classification("other", "hub", None, ("a USB hub",))
    classes = ", ".join(f"{i.cls:#04x}" for i in d.interfaces) or "none read"
    return Classification("other", None, None, (f"no printer, scanner or serial interface "
                                                f"(interface classes: {classes})",))


def _printer(d: UsbDescriptor) -> Classification | None:
    reasons: list[str] = []
    language: str | None = None
    maker: str | None = None
    fields = parse_device_id(d.device_id) if d.device_id else {}
    cmd = command_set(fields)
    if cmd is not None:
        language = language_of(cmd[1])
        reasons.append(f"IEEE-1284 device id says {cmd[0]}:{cmd[1]}")
    maker = fields.get("MFG") or fields.get("MANUFACTURER")
    printer_ifs = [i for i in d.interfaces if i.cls == CLASS_PRINTER]
    if printer_ifs:
        reasons.append(f"interface {printer_ifs[0].number} is class 7 (printer)")
    product = PRINTER_PRODUCTS.get((d.vendor_id, d.product_id))
    vendor = PRINTER_VENDORS.get(d.vendor_id)
    if product is not None:
        reasons.append(f"{d.ids} is a known {product[0]}")
        language = language or product[1]
    elif vendor is not None:
        reasons.append(f"vendor {d.vendor_id:04x} is {vendor[0]}, a printer maker")
        maker = maker or vendor[0]
        language = language or vendor[1]
    if not reasons:
        return None
    return Classification("printer", language, maker, tuple(reasons))
