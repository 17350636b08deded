"""USB printers through pyusb: found by serial number or port path, never by enumeration order."""

from __future__ import annotations

import contextlib
import errno
import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import usb.core
import usb.util

from drivers import InvalidInput
from drivers.transports.base import TransportError, not_open

RULES_FILE = "systemd/99-storelink-printers.rules"
_PORT_PATH = re.compile(r"^\d+-\d+(\.\d+)*$")
_PERMISSION_ERRNOS = (errno.EACCES, errno.EPERM)
_GONE_ERRNOS = (errno.ENODEV, errno.ENOENT, errno.ESHUTDOWN, errno.EIO)


@dataclass(frozen=True)
class UsbTarget:
    """A USB printer: ids, and a serial number or port path ("1-1.4") when several are alike.

    Endpoints default to the first bulk OUT / bulk IN endpoint of `interface`; `timeout`
    (seconds) bounds each write.
    """

    vendor_id: int
    product_id: int
    serial: str | None = None
    port_path: str | None = None
    interface: int = 0
    in_ep: int | None = None
    out_ep: int | None = None
    timeout: float = 5.0

    def __post_init__(self) -> None:
        for name in ("vendor_id", "product_id"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFFFF:
                raise InvalidInput(name, f"{value} is not a 16-bit USB id")
        if self.serial == "":
            raise InvalidInput("serial", "must not be empty (leave it out instead)")
        if self.port_path is not None and not _PORT_PATH.match(self.port_path):
            raise InvalidInput("port_path", f"{self.port_path!r} is not a port path like 1-1.4")
        if not 0 <= self.interface <= 255:
            raise InvalidInput("interface", "must be an interface number 0-255")
        if self.in_ep is not None and not 0x81 <= self.in_ep <= 0x8F:
            raise InvalidInput("in_ep", f"{self.in_ep:#04x} is not an IN endpoint (0x81-0x8f)")
        if self.out_ep is not None and not 0x01 <= self.out_ep <= 0x0F:
            raise InvalidInput("out_ep", f"{self.out_ep:#04x} is not an OUT endpoint (0x01-0x0f)")
        if self.timeout <= 0:
            raise InvalidInput("timeout", "must be positive")


@dataclass(frozen=True)
class UsbCandidate:
    """One attached device with the wanted ids, as listed in an ambiguity error."""

    serial: str | None
    port_path: str | None
    bus: int | None
    address: int | None

    def __str__(self) -> str:
        return f"serial={self.serial or '?'} port={self.port_path or '?'}"


class AmbiguousUsbDeviceError(TransportError):
    """Several attached printers fit the target; `candidates` lists them for the configuration."""

    def __init__(self, ids: str, candidates: tuple[UsbCandidate, ...]) -> None:
        listed = "; ".join(str(c) for c in candidates)
        super().__init__(
            "not_found",
            f"{len(candidates)} USB printers {ids} are attached ({listed}): set serial or "
            "port_path to say which one",
        )
        self.candidates = candidates


def port_path_of(dev: Any) -> str | None:
    """The sysfs-style port path ("1-1.4") of a pyusb Device, or None when unknown."""
    ports = getattr(dev, "port_numbers", None)
    if dev.bus is None or not ports:
        return None
    return f"{dev.bus}-{'.'.join(str(n) for n in ports)}"


def serial_of(dev: Any) -> str | None:
    """The serial number string of a pyusb Device (None if it has none); USBError on failure."""
    index = dev.iSerialNumber
    if not index:
        return None
    try:
        langids = usb.util.get_langids(dev)
        if not langids:
            return None
        return str(usb.util.get_string(dev, index, langids[0]))
    finally:
        usb.util.dispose_resources(dev)


class UsbTransport:
    """A claimed printer interface; the kernel's usblp is detached from it first if bound."""

    def __init__(self, target: UsbTarget, backend: Any = None) -> None:
        self.target = target
        self._backend = backend
        ids = f"{target.vendor_id:04x}:{target.product_id:04x}"
        self._ids = ids
        where = (f"?serial={target.serial}" if target.serial is not None else "") + (
            f"{'&' if target.serial is not None else '?'}port={target.port_path}"
            if target.port_path is not None else ""
        )
        self.description = f"usb://{ids}{where}"
        self._dev: Any = None
        self._port_path: str | None = target.port_path
        self._in_ep: int | None = None
        self._out_ep = 0
        self._packet = 64
        self._pending = b""
        self._closed = threading.Event()

    @property
    def endpoints(self) -> tuple[int | None, int]:
        """(bulk IN, bulk OUT) endpoint addresses in use; IN is None on a write-only printer."""
        return self._in_ep, self._out_ep

    def open(self) -> None:
        """Find the printer, detach usblp, claim the interface and pick the endpoints."""
        if self._dev is not None:
            return
        dev = self._find()
        self._port_path = port_path_of(dev) or self._port_path
        try:
            self._claim(dev)
        except BaseException:
            usb.util.dispose_resources(dev)
            raise
        self._dev = dev
        self._pending = b""
        self._closed.clear()

    def _find(self) -> Any:
        t = self.target
        try:
            found = list(usb.core.find(find_all=True, idVendor=t.vendor_id,
                                       idProduct=t.product_id, backend=self._backend))
        except usb.core.NoBackendError as e:
            raise TransportError(
                "not_found", f"no libusb on this system (install libusb-1.0-0): {e}"
            ) from e
        if not found:
            raise TransportError(
                "not_found", f"no USB printer {self._ids} is attached: check the cable and power"
            )
        by_port = [d for d in found if t.port_path is not None and port_path_of(d) == t.port_path]
        if t.serial is None:
            if t.port_path is not None:
                if by_port:
                    return by_port[0]
                raise TransportError("not_found", f"no USB printer {self._ids} at port "
                                     f"{t.port_path}; attached: {self._listing(found)}")
            if len(found) > 1:
                raise AmbiguousUsbDeviceError(self._ids, tuple(self._candidate(d) for d in found))
            return found[0]
        serials = {id(d): self._serial(d) for d in found}
        by_serial = [d for d in found if serials[id(d)] == t.serial]
        if len(by_serial) == 1:
            return by_serial[0]
        if len(by_serial) > 1:
            # Cheap printers often share one serial number; the port path settles it.
            chosen = [d for d in by_serial if d in by_port]
            if chosen:
                return chosen[0]
            raise AmbiguousUsbDeviceError(self._ids, tuple(self._candidate(d) for d in by_serial))
        # Fall back to the port only for a printer that reports no serial number at all:
        # one that reports a different serial is a different printer.
        fallback = [d for d in by_port if serials[id(d)] is None]
        if fallback:
            return fallback[0]
        raise TransportError("not_found", f"no USB printer {self._ids} with serial {t.serial}; "
                             f"attached: {self._listing(found)}")

    def _serial(self, dev: Any) -> str | None:
        try:
            return serial_of(dev)
        except usb.core.USBError as e:
            raise self._error(e, "reading the serial number of") from e

    def _candidate(self, dev: Any) -> UsbCandidate:
        try:
            serial = serial_of(dev)
        except usb.core.USBError:
            serial = None
        return UsbCandidate(serial, port_path_of(dev), dev.bus, dev.address)

    def _listing(self, found: list[Any]) -> str:
        return "; ".join(str(self._candidate(d)) for d in found)

    def _claim(self, dev: Any) -> None:
        t = self.target
        try:
            try:
                if dev.is_kernel_driver_active(t.interface):
                    dev.detach_kernel_driver(t.interface)
            except NotImplementedError:
                pass  # not Linux: there is no kernel driver to detach
            try:
                cfg = dev.get_active_configuration()
            except usb.core.USBError as e:
                if e.errno in _PERMISSION_ERRNOS or e.errno == errno.ENODEV:
                    raise
                dev.set_configuration()
                cfg = dev.get_active_configuration()
            intf = usb.util.find_descriptor(cfg, bInterfaceNumber=t.interface)
            if intf is None:
                raise TransportError("not_found", f"{self.description} has no interface "
                                     f"{t.interface}")
            self._pick_endpoints(intf)
            usb.util.claim_interface(dev, t.interface)
        except usb.core.USBError as e:
            raise self._error(e, "opening") from e

    def _pick_endpoints(self, intf: Any) -> None:
        t = self.target
        eps = [(int(e.bEndpointAddress), int(e.bmAttributes), int(e.wMaxPacketSize))
               for e in intf]
        bulk = [e for e in eps if e[1] & 0x03 == usb.util.ENDPOINT_TYPE_BULK]
        outs = [e for e in bulk if e[0] & 0x80 == 0]
        ins = [e for e in bulk if e[0] & 0x80]
        have = ", ".join(f"{a:#04x} {'IN' if a & 0x80 else 'OUT'}" for a, _, _ in bulk) or "none"
        out = next((e for e in outs if t.out_ep in (None, e[0])), None)
        if out is None:
            want = "a bulk OUT endpoint" if t.out_ep is None else f"OUT endpoint {t.out_ep:#04x}"
            raise TransportError("not_found", f"{self.description} interface {t.interface} has "
                                 f"no {want}; its bulk endpoints: {have}")
        inp = next((e for e in ins if t.in_ep in (None, e[0])), None)
        if inp is None and t.in_ep is not None:
            raise TransportError("not_found", f"{self.description} interface {t.interface} has "
                                 f"no IN endpoint {t.in_ep:#04x}; its bulk endpoints: {have}")
        self._out_ep = out[0]
        self._in_ep = inp[0] if inp is not None else None
        self._packet = max(inp[2] if inp is not None else 64, 1)

    def write(self, data: bytes) -> None:
        """Send all of `data` within the target's timeout, resuming after short transfers."""
        dev = self._require()
        deadline = time.monotonic() + self.target.timeout
        sent = 0
        while sent < len(data):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._write_timeout(sent, len(data))
            try:
                sent += int(dev.write(self._out_ep, data[sent:], _ms(remaining)))
            except usb.core.USBTimeoutError as e:
                raise self._write_timeout(sent, len(data)) from e
            except usb.core.USBError as e:
                self._drop()
                raise self._error(e, "writing to") from e

    def _write_timeout(self, sent: int, total: int) -> TransportError:
        return TransportError(
            "timeout",
            f"{self.description} took no more data for {self.target.timeout:g} s ({sent} of "
            f"{total} bytes sent): paper out, cover open or its buffer is full",
        )

    def read(self, max_bytes: int, timeout: float) -> bytes:
        """Return up to max_bytes the printer sends within `timeout`; b"" if it has no IN pipe.

        Transfers are whole packets (asking for fewer bytes than the printer sends is a libusb
        overflow); bytes beyond max_bytes are kept for the next read.
        """
        dev = self._require()
        if self._pending:
            data, self._pending = self._pending[:max_bytes], self._pending[max_bytes:]
            return data
        if self._in_ep is None:
            self._closed.wait(max(timeout, 0.0))
            return b""
        size = math.ceil(max(max_bytes, 1) / self._packet) * self._packet
        try:
            got = bytes(dev.read(self._in_ep, size, _ms(timeout)))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as e:
            self._drop()
            raise self._error(e, "reading from") from e
        data, self._pending = got[:max_bytes], got[max_bytes:]
        return data

    def close(self) -> None:
        """Release the interface and the device handle; idempotent."""
        self._closed.set()
        self._drop()

    def _drop(self) -> None:
        dev, self._dev = self._dev, None
        self._pending = b""
        if dev is None:
            return
        # After an unplug the kernel has released both already.
        with contextlib.suppress(usb.core.USBError):
            usb.util.release_interface(dev, self.target.interface)
        with contextlib.suppress(usb.core.USBError):
            usb.util.dispose_resources(dev)

    def _require(self) -> Any:
        if self._dev is None:
            raise not_open(self.description)
        return self._dev

    def _error(self, e: usb.core.USBError, doing: str) -> TransportError:
        """Explain a pyusb error in terms of what to do about it."""
        what = f"{doing} USB printer {self.description}"
        if isinstance(e, usb.core.USBTimeoutError):
            return TransportError("timeout", f"{what} timed out: {e}")
        if e.errno == errno.EBUSY:
            sysfs = f"{self._port_path or 'BUS-PORT'}:1.{self.target.interface}"
            return TransportError(
                "busy",
                f"{what}: the printer is held by usblp or CUPS: stop cups (systemctl stop cups "
                f"cups-browsed) / unbind usblp (echo {sysfs} > "
                "/sys/bus/usb/drivers/usblp/unbind, or blacklist usblp) and retry "
                f"[{e}]",
            )
        if e.errno in _PERMISSION_ERRNOS:
            return TransportError(
                "permission",
                f"{what}: access denied: install {RULES_FILE} (cp to /etc/udev/rules.d, "
                "udevadm control --reload, udevadm trigger, then replug the printer) and add "
                f"the storelink user to the lp group [{e}]",
            )
        if e.errno in _GONE_ERRNOS:
            return TransportError("disconnected", f"{what}: the printer was unplugged [{e}]")
        return TransportError("disconnected", f"{what} failed: {e}")


def _ms(seconds: float) -> int:
    """A libusb timeout in milliseconds; never 0, which libusb reads as "wait forever"."""
    return max(1, math.ceil(seconds * 1000))
