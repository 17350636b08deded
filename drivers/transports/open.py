"""Build the transport for a configured target."""

from __future__ import annotations

from typing import Any

from drivers.transports.base import Transport
from drivers.transports.file import FileTarget, FileTransport
from drivers.transports.serial_port import SerialTarget, SerialTransport
from drivers.transports.tcp import TcpTarget, TcpTransport
from drivers.transports.usb import UsbTarget, UsbTransport

Target = TcpTarget | SerialTarget | UsbTarget | FileTarget


def make_transport(target: Target, *, usb_backend: Any = None) -> Transport:
    """The transport for `target`, not yet opened (`usb_backend` is a pyusb backend, for tests)."""
    if isinstance(target, TcpTarget):
        return TcpTransport(target)
    if isinstance(target, SerialTarget):
        return SerialTransport(target)
    if isinstance(target, UsbTarget):
        return UsbTransport(target, backend=usb_backend)
    if isinstance(target, FileTarget):
        return FileTransport(target)
    raise TypeError(f"not a transport target: {target!r}")


def open_transport(target: Target, *, usb_backend: Any = None) -> Transport:
    """The opened transport for `target`; TransportError if the device cannot be reached."""
    transport = make_transport(target, usb_backend=usb_backend)
    transport.open()
    return transport
