"""Serial transport over a real pseudo-terminal: the test plays the printer on the master side."""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import termios
import threading
import tty
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers import InvalidInput
from drivers.transports.base import TransportError, query
from drivers.transports.open import open_transport
from drivers.transports.serial_port import SerialTarget, SerialTransport
from tests.drivers.polling import DEADLINE_S, read_exactly, wait_for
from tests.drivers.transports.unprivileged import refused

DLE_EOT_1 = b"\x10\x04\x01"
XON, XOFF = b"\x11", b"\x13"
RECEIPT = "冷冻水饺 500g ×3\r\n应收：¥45.00\n".encode("gb18030")


@dataclass
class Pty:
    master: int
    slave: int
    name: str

    def read_master(self, n: int) -> bytes:
        """Read exactly `n` bytes the host sent."""
        return read_exactly(self.master, n)

    def waiting_for_host(self) -> int:
        """Bytes in the terminal's input queue, not yet read by the host."""
        buf = fcntl.ioctl(self.slave, termios.FIONREAD, struct.pack("i", 0))
        return int(struct.unpack("i", buf)[0])


@pytest.fixture
def pty() -> Iterator[Pty]:
    master, slave = os.openpty()
    tty.setraw(slave)
    p = Pty(master, slave, os.ttyname(slave))
    yield p
    for fd in (p.slave, p.master):
        with contextlib.suppress(OSError):
            os.close(fd)


def test_bytes_pass_unchanged_both_ways(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name))
    try:
        t.write(RECEIPT)
        assert pty.read_master(len(RECEIPT)) == RECEIPT  # raw: no \n -> \r\n translation
        os.write(pty.master, b"\x12\x00")
        assert t.read(1, DEADLINE_S) == b"\x12"
        assert t.read(8, DEADLINE_S) == b"\x00"
        assert t.read(8, 0.0) == b""
    finally:
        t.close()


def test_query_discards_waiting_bytes_and_gets_the_answer(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name, 115200))
    os.write(pty.master, b"\x99\x99")  # noise from before, e.g. a power-on banner
    wait_for(lambda: pty.waiting_for_host() == 2)

    def printer() -> None:
        assert pty.read_master(len(DLE_EOT_1)) == DLE_EOT_1
        os.write(pty.master, b"\x16")

    thread = threading.Thread(target=printer)
    thread.start()
    try:
        assert query(t, DLE_EOT_1, 1, DEADLINE_S) == b"\x16"
    finally:
        thread.join(DEADLINE_S)
        t.close()


def test_query_returns_none_when_the_printer_is_silent(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name))
    try:
        assert query(t, DLE_EOT_1, 1, 0.2) is None
        assert pty.read_master(3) == DLE_EOT_1
    finally:
        t.close()


@pytest.mark.parametrize(
    ("flow", "cflag", "iflag"),
    [("none", 0, 0), ("rtscts", termios.CRTSCTS, 0),
     ("xonxoff", 0, termios.IXON | termios.IXOFF), ("dsrdtr", 0, 0)],
)
def test_line_settings_reach_the_terminal(pty: Pty, flow: str, cflag: int, iflag: int) -> None:
    t = open_transport(SerialTarget(pty.name, 19200, stopbits=2, flow=flow))  # type: ignore[arg-type]
    try:
        attrs = termios.tcgetattr(pty.slave)
        assert attrs[4] == attrs[5] == termios.B19200
        assert attrs[2] & termios.CSTOPB
        assert attrs[2] & termios.CRTSCTS == cflag
        assert attrs[0] & (termios.IXON | termios.IXOFF) == iflag
    finally:
        t.close()


def test_xoff_from_the_printer_holds_the_host_until_xon(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name, flow="xonxoff", write_timeout=0.1))
    os.write(pty.master, XOFF)
    sent = 0

    def held() -> bool:
        nonlocal sent
        try:
            t.write(b".")
        except TransportError as e:
            assert e.reason == "timeout"
            return True
        sent += 1
        return False

    try:
        wait_for(held)
        os.write(pty.master, XON)
        t.write(b"after")
        assert pty.read_master(sent + 5) == b"." * sent + b"after"
    finally:
        t.close()


def test_a_printer_that_stops_reading_times_out_the_write(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name, write_timeout=0.2))
    try:
        with pytest.raises(TransportError) as info:
            t.write(bytes(1024 * 1024))  # far beyond the terminal's buffers; nobody reads
        assert info.value.reason == "timeout"
    finally:
        t.close()


def test_a_missing_device_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as info:
        open_transport(SerialTarget(str(tmp_path / "ttyUSB9")))
    assert info.value.reason == "not_found"
    assert "ttyUSB9" in info.value.message


def test_permission_denied_names_the_dialout_group(tmp_path: Path) -> None:
    denied = tmp_path / "ttyS9"
    error = refused(denied, SerialTarget(str(denied)))
    assert error.reason == "permission"
    assert "dialout" in error.message


def test_a_port_held_by_another_transport_is_busy(pty: Pty) -> None:
    first = open_transport(SerialTarget(pty.name))
    try:
        with pytest.raises(TransportError) as info:
            open_transport(SerialTarget(pty.name))
        assert info.value.reason == "busy"
    finally:
        first.close()
    open_transport(SerialTarget(pty.name)).close()  # free again


def test_the_device_going_away_is_a_disconnect(pty: Pty) -> None:
    t = open_transport(SerialTarget(pty.name))
    os.close(pty.master)  # the USB-serial adapter was pulled
    with pytest.raises(TransportError) as info:
        t.read(1, DEADLINE_S)
    assert info.value.reason == "disconnected"
    t.close()
    t.close()


def test_targets_validate_and_describe_themselves() -> None:
    with pytest.raises(InvalidInput) as info:
        SerialTarget("/dev/ttyUSB0", parity="X")
    assert info.value.field == "parity"
    with pytest.raises(InvalidInput) as info:
        SerialTarget("/dev/ttyUSB0", flow="hardware")  # type: ignore[arg-type]
    assert info.value.field == "flow"
    with pytest.raises(InvalidInput) as info:
        SerialTarget("/dev/ttyUSB0", bytesize=9)
    assert info.value.field == "bytesize"
    t = SerialTransport(SerialTarget("/dev/ttyUSB0", 38400, flow="rtscts"))
    assert t.description == "serial:///dev/ttyUSB0?baud=38400&mode=8N1&flow=rtscts"
    with pytest.raises(TransportError) as err:
        t.read(1, 0.0)
    assert err.value.reason == "disconnected"


def test_line_settings_are_pyserials_own_values() -> None:
    # The transport hands SerialTarget's settings to pyserial as they are (it is imported only
    # when a port opens), and catches OSError for pyserial's SerialException.
    import serial

    parities = [serial.PARITY_NONE, serial.PARITY_EVEN, serial.PARITY_ODD, serial.PARITY_MARK,
                serial.PARITY_SPACE]
    assert parities == ["N", "E", "O", "M", "S"]
    assert [serial.FIVEBITS, serial.SIXBITS, serial.SEVENBITS, serial.EIGHTBITS] == [5, 6, 7, 8]
    stopbits = [serial.STOPBITS_ONE, serial.STOPBITS_ONE_POINT_FIVE, serial.STOPBITS_TWO]
    assert stopbits == [1, 1.5, 2]
    assert issubclass(serial.SerialException, OSError)
