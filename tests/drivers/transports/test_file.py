"""File transport against regular files, FIFOs and a character device (a pty); and the factory."""

from __future__ import annotations

import os
import tty
from pathlib import Path

import pytest

from drivers import InvalidInput
from drivers.sim.usb_backend import SimUsbBackend
from drivers.transports.base import TransportError, query
from drivers.transports.file import FileTarget, FileTransport
from drivers.transports.open import make_transport, open_transport
from drivers.transports.serial_port import SerialTarget, SerialTransport
from drivers.transports.tcp import TcpTarget, TcpTransport
from drivers.transports.usb import UsbTarget, UsbTransport
from tests.drivers.polling import DEADLINE_S, read_exactly
from tests.drivers.transports.unprivileged import refused

LABEL = (
    'SIZE 40 mm,30 mm\r\nTEXT 10,10,"TSS24.BF2",0,1,1,"速冻汤圆 宁波风味"\r\nPRINT 1\r\n'
).encode("gb18030")


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "lp0"
    os.mkfifo(path)
    return path


def failure(target: FileTarget) -> TransportError:
    with pytest.raises(TransportError) as info:
        open_transport(target)
    return info.value


def test_a_regular_file_collects_jobs_and_answers_nothing(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    path.write_bytes(b"earlier job|")
    t = open_transport(FileTarget(str(path)))
    assert t.description == f"file://{path}"
    t.write(LABEL)
    t.write(LABEL)
    assert t.read(1, 0.01) == b""
    assert query(t, b"\x1b!?", 1, 0.05) is None
    t.close()
    t.close()
    assert path.read_bytes() == b"earlier job|" + LABEL + LABEL + b"\x1b!?"


def test_a_missing_path_is_not_found_and_never_created(tmp_path: Path) -> None:
    path = tmp_path / "usb" / "lp0"
    path.parent.mkdir()
    err = failure(FileTarget(str(path)))
    assert err.reason == "not_found"
    assert not path.exists()
    assert failure(FileTarget(str(tmp_path))).reason == "not_found"  # a directory


def test_a_fifo_delivers_to_its_reader(fifo: Path) -> None:
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        t = open_transport(FileTarget(str(fifo)))
        t.write(LABEL)
        assert read_exactly(reader, len(LABEL)) == LABEL
        t.close()
    finally:
        os.close(reader)


def test_a_fifo_nobody_reads_is_unreachable(fifo: Path) -> None:
    assert failure(FileTarget(str(fifo))).reason == "unreachable"


def test_a_reader_that_stops_reading_times_out_the_write(fifo: Path) -> None:
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        t = open_transport(FileTarget(str(fifo), write_timeout=0.2))
        with pytest.raises(TransportError) as info:
            t.write(bytes(1024 * 1024))  # a pipe holds 64 KiB
        assert info.value.reason == "timeout"
        assert "of 1048576 bytes written" in info.value.message
        t.close()
    finally:
        os.close(reader)


def test_the_reader_going_away_is_a_disconnect(fifo: Path) -> None:
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    t = open_transport(FileTarget(str(fifo)))
    os.close(reader)
    with pytest.raises(TransportError) as info:
        t.write(LABEL)
    assert info.value.reason == "disconnected"
    with pytest.raises(TransportError) as info:
        t.write(LABEL)
    assert info.value.reason == "disconnected"  # closed after the failure


def test_a_character_device_is_read_and_written() -> None:
    master, slave = os.openpty()  # a pty slave is a character device, like /dev/usb/lp0
    tty.setraw(slave)
    try:
        t = open_transport(FileTarget(os.ttyname(slave)))
        t.write(LABEL)
        assert read_exactly(master, len(LABEL)) == LABEL
        os.write(master, b"\x00")
        assert t.read(1, DEADLINE_S) == b"\x00"
        t.close()
    finally:
        os.close(slave)
        os.close(master)


def test_permission_denied_points_at_the_udev_rule(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    error = refused(path, FileTarget(str(path)))
    assert error.reason == "permission"
    assert "99-storelink-printers.rules" in error.message


def test_target_validation() -> None:
    with pytest.raises(InvalidInput) as info:
        FileTarget("")
    assert info.value.field == "path"
    with pytest.raises(TransportError) as err:
        FileTransport(FileTarget("/dev/usb/lp0")).write(b"x")
    assert err.value.reason == "disconnected"


def test_the_factory_builds_the_transport_for_each_target() -> None:
    assert isinstance(make_transport(TcpTarget("192.168.1.50")), TcpTransport)
    assert isinstance(make_transport(SerialTarget("/dev/ttyUSB0")), SerialTransport)
    assert isinstance(make_transport(FileTarget("/dev/usb/lp0")), FileTransport)
    usb = make_transport(UsbTarget(0x0416, 0x5011, serial="A1"), usb_backend=SimUsbBackend())
    assert isinstance(usb, UsbTransport)
    assert usb.description == "usb://0416:5011?serial=A1"
    with pytest.raises(TypeError):
        make_transport("tcp://192.168.1.50")  # type: ignore[arg-type]
