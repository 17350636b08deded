"""A pyusb backend presenting simulated USB printers, each wired to a DeviceModel.

Pass a `SimUsbBackend` as `backend=` to `usb.core.find` (or `usb_backend=` to the transport
factory): bulk OUT bytes go to `model.receive()`, the replies come back on bulk IN after the
model's `reply_delay`. Fault switches on each `SimUsbPrinter` reproduce what real printers do:
usblp bound to the interface, another program holding it, missing udev permissions, unplugging,
a full buffer that stops taking data, answers split over several reads.
"""

from __future__ import annotations

import errno
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace

import usb.backend
import usb.core

from drivers.sim.model import DeviceModel

# libusb_error codes (libusb.h) and the strings pyusb's libusb1 backend reports with them.
_LIBUSB: dict[int, tuple[int, str]] = {
    errno.EINVAL: (-2, "Invalid parameter"),
    errno.EACCES: (-3, "Access denied (insufficient permissions)"),
    errno.ENODEV: (-4, "No such device (it may have been disconnected)"),
    errno.ENOENT: (-5, "Entity not found"),
    errno.EBUSY: (-6, "Resource busy"),
    errno.ETIMEDOUT: (-7, "Operation timed out"),
    errno.EOVERFLOW: (-8, "Overflow"),
    errno.EPIPE: (-9, "Pipe error"),
}

_BULK = 0x02
_STRING_MANUFACTURER, _STRING_PRODUCT, _STRING_SERIAL = 1, 2, 3
_LANGID_EN_US = 0x0409
_PORT_STATUS_OK = 0x18  # IEEE 1284 status: selected, no error, paper present


def usb_error(code: int) -> usb.core.USBError:
    """The exception pyusb's libusb1 backend raises for errno `code`."""
    libusb_code, text = _LIBUSB[code]
    if code == errno.ETIMEDOUT:
        return usb.core.USBTimeoutError(text, libusb_code, code)
    return usb.core.USBError(text, libusb_code, code)


@dataclass(eq=False, kw_only=True)
class SimUsbPrinter:
    """One simulated USB printer: descriptors, fault switches, and the model behind its pipes.

    Fault switches (plain attributes, change them at any time):
    `kernel_driver_active` usblp is bound (claiming fails until it is detached);
    `busy` another program (CUPS) holds the interface, claim fails with errno 16;
    `access_denied` opening fails with errno 13 (no udev rule);
    `stall_after` the printer takes only this many bytes in total, then bulk OUT times out;
    `out_chunk` at most this many bytes are taken per bulk write (short writes);
    `in_chunk` each answer is split into pieces of this size, one per bulk read.
    Unplugging goes through `SimUsbBackend.unplug` / `plug`; a model with `connected` False
    counts as unplugged too. `in_ep` None makes a write-only printer.
    """

    model: DeviceModel = field(kw_only=False)
    vendor_id: int = 0x0416
    product_id: int = 0x5011
    serial: str | None = "SL0001"
    manufacturer: str = "Storelink"
    product: str = "POS-80"
    device_id: str | None = "MFG:Storelink;CMD:ESC/POS;MDL:POS-80;CLS:PRINTER;"
    bus: int = 1
    port_numbers: tuple[int, ...] = (1,)
    interface: int = 0
    interface_class: int = 7
    in_ep: int | None = 0x81
    out_ep: int = 0x03
    max_packet: int = 64
    in_chunk: int | None = None
    out_chunk: int | None = None
    stall_after: int | None = None
    kernel_driver_active: bool = False
    busy: bool = False
    access_denied: bool = False
    # Bus state, kept by the backend.
    address: int = field(default=0, init=False)
    present: bool = field(default=True, init=False)
    generation: int = field(default=0, init=False)
    configuration: int = field(default=1, init=False)
    received: int = field(default=0, init=False)
    claimed_by: _Handle | None = field(default=None, init=False)
    replies: deque[tuple[float, bytes]] = field(default_factory=deque, init=False)

    def __post_init__(self) -> None:
        if self.in_ep is not None and not self.in_ep & 0x80:
            raise ValueError(f"IN endpoint {self.in_ep:#04x} lacks the direction bit 0x80")
        if self.out_ep & 0x80:
            raise ValueError(f"OUT endpoint {self.out_ep:#04x} has the IN direction bit set")

    @property
    def port_path(self) -> str:
        """The sysfs-style port path, e.g. "1-1.4" (bus 1, hub port 1, port 4)."""
        return f"{self.bus}-{'.'.join(str(n) for n in self.port_numbers)}"

    @property
    def attached(self) -> bool:
        """Plugged in and powered."""
        return self.present and self.model.connected

    def endpoints(self) -> list[int]:
        """Endpoint addresses in descriptor order: IN first, as many Chinese printers list them."""
        return ([self.in_ep] if self.in_ep is not None else []) + [self.out_ep]


@dataclass(frozen=True)
class _DevRef:
    """What enumerate_devices yields: one printer as seen by one enumeration."""

    printer: SimUsbPrinter
    generation: int
    address: int


@dataclass(eq=False)
class _Handle:
    """An open device handle; it dies when the printer is unplugged or re-enumerated."""

    printer: SimUsbPrinter
    generation: int
    claimed: bool = False  # a data connection, not just a descriptor read


class SimUsbBackend(usb.backend.IBackend):  # type: ignore[misc]
    """A pyusb backend whose bus holds the given simulated printers."""

    def __init__(self, printers: Iterable[SimUsbPrinter] = ()) -> None:
        self._cond = threading.Condition()
        self._order: list[SimUsbPrinter] = []
        self._next_address: dict[int, int] = {}
        for p in printers:
            self.add(p)

    # -- the simulation's controls -------------------------------------------------------

    @property
    def printers(self) -> tuple[SimUsbPrinter, ...]:
        """Every printer on the bus, plugged or not, in enumeration order."""
        return tuple(self._order)

    def add(self, printer: SimUsbPrinter) -> SimUsbPrinter:
        """Plug a new printer into the bus."""
        with self._cond:
            self._order.append(printer)
            printer.address = self._allocate_address(printer.bus)
            printer.present = True
        return printer

    def unplug(self, printer: SimUsbPrinter) -> None:
        """Pull the cable: open handles fail with errno 19 and the device leaves enumeration."""
        with self._cond:
            in_use = printer.claimed_by is not None
            printer.present = False
            printer.claimed_by = None
            printer.replies.clear()
            self._cond.notify_all()
        if in_use:
            printer.model.end_of_stream()

    def plug(self, printer: SimUsbPrinter) -> None:
        """Plug the printer back in: a new device address; handles from before stay dead."""
        with self._cond:
            printer.present = True
            self._replug(printer)
            self._cond.notify_all()

    def reenumerate(
        self,
        order: Sequence[SimUsbPrinter] | None = None,
        *,
        ports: Sequence[tuple[int, ...]] | None = None,
    ) -> None:
        """Re-plug every printer (a hub reset or reboot): new enumeration order and addresses.

        `order` defaults to the reverse of the current order; `ports`, if given, moves the
        printers (in the new order) to these port numbers. Open handles go stale.
        """
        with self._cond:
            new = list(reversed(self._order)) if order is None else list(order)
            if sorted(map(id, new)) != sorted(map(id, self._order)):
                raise ValueError("order must list every printer on the bus exactly once")
            if ports is not None and len(ports) != len(new):
                raise ValueError("ports must give one port path per printer")
            self._order = new
            self._next_address.clear()
            for i, p in enumerate(new):
                if ports is not None:
                    p.port_numbers = tuple(ports[i])
                self._replug(p)
            self._cond.notify_all()

    def _replug(self, p: SimUsbPrinter) -> None:
        p.generation += 1
        p.address = self._allocate_address(p.bus)
        p.claimed_by = None
        p.replies.clear()
        p.configuration = 1

    def _allocate_address(self, bus: int) -> int:
        # Address 1 is the root hub; the kernel hands out the next free one, wrapping at 127.
        addr = self._next_address.get(bus, 2)
        self._next_address[bus] = addr + 1 if addr < 127 else 2
        return addr

    # -- IBackend: descriptors -----------------------------------------------------------

    def enumerate_devices(self) -> list[_DevRef]:
        with self._cond:
            return [_DevRef(p, p.generation, p.address) for p in self._order if p.attached]

    def get_parent(self, dev: _DevRef) -> None:
        return None

    def get_device_descriptor(self, dev: _DevRef) -> SimpleNamespace:
        p = dev.printer
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=p.vendor_id, idProduct=p.product_id,
            bcdDevice=0x0100, iManufacturer=_STRING_MANUFACTURER, iProduct=_STRING_PRODUCT,
            iSerialNumber=_STRING_SERIAL if p.serial is not None else 0, bNumConfigurations=1,
            address=dev.address, bus=p.bus, port_number=p.port_numbers[-1],
            port_numbers=p.port_numbers, speed=3,
        )

    def get_configuration_descriptor(self, dev: _DevRef, config: int) -> SimpleNamespace:
        if config != 0:
            raise IndexError("configuration index out of range")
        p = dev.printer
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=9 + 9 + 7 * len(p.endpoints()),
            bNumInterfaces=1, bConfigurationValue=1, iConfiguration=0, bmAttributes=0xC0,
            bMaxPower=50, extra_descriptors=[],
        )

    def get_interface_descriptor(
        self, dev: _DevRef, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        if config != 0 or intf != 0 or alt != 0:
            raise IndexError("interface index out of range")
        p = dev.printer
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=p.interface, bAlternateSetting=0,
            bNumEndpoints=len(p.endpoints()), bInterfaceClass=p.interface_class,
            bInterfaceSubClass=1, bInterfaceProtocol=2 if p.in_ep is not None else 1,
            iInterface=0, extra_descriptors=[],
        )

    def get_endpoint_descriptor(
        self, dev: _DevRef, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        eps = dev.printer.endpoints()
        if config != 0 or intf != 0 or alt != 0 or not 0 <= ep < len(eps):
            raise IndexError("endpoint index out of range")
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=eps[ep], bmAttributes=_BULK,
            wMaxPacketSize=dev.printer.max_packet, bInterval=0, bRefresh=0, bSynchAddress=0,
            extra_descriptors=[],
        )

    # -- IBackend: handles and configuration ---------------------------------------------

    def open_device(self, dev: _DevRef) -> _Handle:
        with self._cond:
            p = dev.printer
            if not p.attached or dev.generation != p.generation:
                raise usb_error(errno.ENODEV)
            if p.access_denied:
                raise usb_error(errno.EACCES)
            return _Handle(p, p.generation)

    def close_device(self, dev_handle: _Handle) -> None:
        p = dev_handle.printer
        with self._cond:
            if p.claimed_by is dev_handle:
                p.claimed_by = None
            live = p.attached and dev_handle.generation == p.generation
        if live and dev_handle.claimed:
            p.model.end_of_stream()

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        with self._cond:
            p = self._live(dev_handle)
            if config_value not in (0, 1):
                raise usb_error(errno.EINVAL)
            if p.kernel_driver_active or p.busy or p.claimed_by not in (None, dev_handle):
                raise usb_error(errno.EBUSY)
            p.configuration = config_value

    def get_configuration(self, dev_handle: _Handle) -> int:
        with self._cond:
            return self._live(dev_handle).configuration

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            p = self._live(dev_handle)
            if intf != p.interface:
                raise usb_error(errno.ENOENT)
            if p.busy or p.kernel_driver_active or p.claimed_by not in (None, dev_handle):
                raise usb_error(errno.EBUSY)
            p.claimed_by = dev_handle
            dev_handle.claimed = True

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            p = dev_handle.printer
            if p.claimed_by is dev_handle:
                p.claimed_by = None
            self._live(dev_handle)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        with self._cond:
            p = self._live(dev_handle)
            return intf == p.interface and p.kernel_driver_active

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            p = self._live(dev_handle)
            if intf != p.interface or not p.kernel_driver_active:
                raise usb_error(errno.ENOENT)
            p.kernel_driver_active = False

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            p = self._live(dev_handle)
            if p.claimed_by is not None:
                raise usb_error(errno.EBUSY)
            p.kernel_driver_active = True

    # -- IBackend: transfers -------------------------------------------------------------

    def bulk_write(
        self, dev_handle: _Handle, ep: int, intf: int, data: array[int], timeout: int
    ) -> int:
        payload = bytes(data)
        deadline = _deadline(timeout)
        with self._cond:
            while True:
                p = self._claimed(dev_handle, ep)
                take = len(payload)
                if p.out_chunk is not None:
                    take = min(take, p.out_chunk)
                if p.stall_after is not None:
                    take = min(take, max(0, p.stall_after - p.received))
                if take or not payload:
                    break
                self._wait_until(deadline, None)
            chunk = payload[:take]
            p.received += take
            reply = p.model.receive(chunk) if chunk else b""
            if reply:
                ready_at = time.monotonic() + p.model.reply_delay
                piece = p.in_chunk or len(reply)
                for i in range(0, len(reply), piece):
                    p.replies.append((ready_at, reply[i : i + piece]))
                self._cond.notify_all()
            return take

    def bulk_read(
        self, dev_handle: _Handle, ep: int, intf: int, buff: array[int], timeout: int
    ) -> int:
        deadline = _deadline(timeout)
        with self._cond:
            while True:
                p = self._claimed(dev_handle, ep)
                ready_at = p.replies[0][0] if p.replies else None
                if ready_at is not None and ready_at <= time.monotonic():
                    piece = p.replies[0][1]
                    # A transfer shorter than the packet the device sends is a libusb overflow.
                    if len(buff) < min(len(piece), p.max_packet):
                        raise usb_error(errno.EOVERFLOW)
                    taken, rest = piece[: len(buff)], piece[len(buff) :]
                    if rest:
                        p.replies[0] = (ready_at, rest)
                    else:
                        p.replies.popleft()
                    buff[: len(taken)] = array("B", taken)
                    return len(taken)
                self._wait_until(deadline, ready_at)

    def ctrl_transfer(self, dev_handle: _Handle, request_type: int, request: int, value: int,
                      index: int, data: array[int], timeout: int) -> int:
        with self._cond:
            p = self._live(dev_handle)
            answer = _control_answer(p, request_type, request, value)
        if answer is None:
            raise usb_error(errno.EPIPE)
        n = min(len(data), len(answer))
        data[:n] = array("B", answer[:n])
        return n

    # -- helpers -------------------------------------------------------------------------

    def _live(self, dev_handle: _Handle) -> SimUsbPrinter:
        p = dev_handle.printer
        if not p.attached or dev_handle.generation != p.generation:
            raise usb_error(errno.ENODEV)
        return p

    def _claimed(self, dev_handle: _Handle, ep: int) -> SimUsbPrinter:
        p = self._live(dev_handle)
        if ep not in p.endpoints():
            raise usb_error(errno.EINVAL)
        if p.claimed_by is not dev_handle:
            raise usb_error(errno.EBUSY)
        return p

    def _wait_until(self, deadline: float | None, wake_at: float | None) -> None:
        """Wait for a notification, `wake_at` or the deadline; raise the timeout at the deadline."""
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            raise usb_error(errno.ETIMEDOUT)
        times = [t for t in (deadline, wake_at) if t is not None]
        self._cond.wait(max(min(times) - now, 0.0) if times else None)


def _deadline(timeout_ms: int) -> float | None:
    # libusb: a timeout of 0 means wait forever.
    return None if timeout_ms == 0 else time.monotonic() + timeout_ms / 1000


def _control_answer(p: SimUsbPrinter, request_type: int, request: int, value: int) -> bytes | None:
    """The data stage of a control request, or None to stall it."""
    if request_type == 0x80 and request == 0x06:  # GET_DESCRIPTOR
        kind, index = value >> 8, value & 0xFF
        return _string_descriptor(p, index) if kind == 0x03 else None
    if request_type == 0xA1 and request == 0x00:  # printer class GET_DEVICE_ID (IEEE 1284)
        if p.device_id is None:
            return None
        body = p.device_id.encode("ascii")
        return (len(body) + 2).to_bytes(2, "big") + body
    if request_type == 0xA1 and request == 0x01:  # printer class GET_PORT_STATUS
        return bytes([_PORT_STATUS_OK])
    return None


def _string_descriptor(p: SimUsbPrinter, index: int) -> bytes | None:
    if index == 0:
        return bytes([4, 3]) + _LANGID_EN_US.to_bytes(2, "little")
    text = {_STRING_MANUFACTURER: p.manufacturer, _STRING_PRODUCT: p.product,
            _STRING_SERIAL: p.serial}.get(index)
    if text is None:
        return None
    body = text.encode("utf-16-le")
    return bytes([len(body) + 2, 3]) + body
