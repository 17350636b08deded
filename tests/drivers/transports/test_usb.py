"""USB transport against the simulated pyusb backend: selection, endpoints, and every fault."""

from __future__ import annotations

import errno
import threading

import pytest
import usb.core

from drivers import InvalidInput
from drivers.sim.usb_backend import SimUsbBackend, SimUsbPrinter
from drivers.transports.base import TransportError, query
from drivers.transports.open import open_transport
from drivers.transports.usb import AmbiguousUsbDeviceError, UsbTarget, UsbTransport

DLE_EOT_1 = b"\x10\x04\x01"
RECEIPT = "收银小票\n商品：农夫山泉 550ml ×2\n合计：¥4.00\n".encode("gb18030")
VID, PID = 0x0416, 0x5011


class StatusModel:
    """Records what the host sent; answers each DLE EOT with `status`."""

    def __init__(self, status: bytes = b"\x12", reply_delay: float = 0.0) -> None:
        self.connected = True
        self.reply_delay = reply_delay
        self.status = status
        self.received = bytearray()
        self.ended = 0

    def receive(self, data: bytes) -> bytes:
        self.received += data
        return self.status * data.count(b"\x10\x04")

    def end_of_stream(self) -> None:
        self.ended += 1


def one_printer(**options: object) -> tuple[SimUsbBackend, SimUsbPrinter, StatusModel]:
    model = StatusModel()
    printer = SimUsbPrinter(model, **options)  # type: ignore[arg-type]
    return SimUsbBackend([printer]), printer, model


def failure(target: UsbTarget, backend: SimUsbBackend) -> TransportError:
    with pytest.raises(TransportError) as info:
        open_transport(target, usb_backend=backend)
    return info.value


def test_detaches_usblp_writes_chinese_and_reads_status() -> None:
    backend, printer, model = one_printer(kernel_driver_active=True)
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        assert printer.kernel_driver_active is False
        assert t.description == "usb://0416:5011"
        t.write(RECEIPT)
        assert bytes(model.received) == RECEIPT
        assert query(t, DLE_EOT_1, 1, 2.0) == b"\x12"
    finally:
        t.close()


@pytest.mark.parametrize(("in_ep", "out_ep"), [(0x81, 0x03), (0x82, 0x02), (0x83, 0x01)])
def test_endpoints_come_from_the_descriptors(in_ep: int, out_ep: int) -> None:
    backend, _, model = one_printer(in_ep=in_ep, out_ep=out_ep)
    t = UsbTransport(UsbTarget(VID, PID), backend=backend)
    t.open()
    try:
        assert t.endpoints == (in_ep, out_ep)
        assert query(t, DLE_EOT_1, 1, 2.0) == b"\x12"
        assert bytes(model.received) == DLE_EOT_1
    finally:
        t.close()


def test_a_configured_endpoint_the_printer_lacks_is_named_with_the_ones_it_has() -> None:
    backend, _, _ = one_printer(in_ep=0x81, out_ep=0x03)
    err = failure(UsbTarget(VID, PID, out_ep=0x01), backend)
    assert err.reason == "not_found"
    assert "0x01" in err.message and "0x81 IN" in err.message and "0x03 OUT" in err.message


def test_an_answer_split_over_several_reads_is_collected_by_query() -> None:
    backend, _, model = one_printer(in_chunk=1)
    model.status = b"\x02\x40\x00\x00"
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        t.write(DLE_EOT_1)
        assert t.read(4, 2.0) == b"\x02"  # one read gives only part of the answer
        assert query(t, DLE_EOT_1, 4, 2.0) == b"\x02\x40\x00\x00"
    finally:
        t.close()


def test_reading_fewer_bytes_than_a_packet_does_not_overflow() -> None:
    backend, _, model = one_printer(max_packet=64)
    model.status = b"ABCDEFGH"
    raw = usb.core.find(idVendor=VID, backend=backend)
    raw.write(0x03, DLE_EOT_1)
    with pytest.raises(usb.core.USBError) as info:
        raw.read(0x81, 1)  # what a naive one-byte status read does to libusb
    assert info.value.errno == errno.EOVERFLOW
    usb.util.dispose_resources(raw)

    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        t.write(DLE_EOT_1)
        assert t.read(1, 2.0) == b"A"
        assert t.read(100, 2.0) == b"BCDEFGH"
    finally:
        t.close()


def test_query_returns_none_when_the_printer_stays_silent() -> None:
    backend, _, model = one_printer()
    model.status = b""  # a printer with its cover open may not answer at all
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        assert query(t, DLE_EOT_1, 1, 0.2) is None
        assert bytes(model.received) == DLE_EOT_1
    finally:
        t.close()


def test_query_discards_a_late_answer_to_an_earlier_question() -> None:
    backend, _, model = one_printer()
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        t.write(DLE_EOT_1)  # its answer 0x12 is never read
        model.status = b"\x16"
        assert query(t, DLE_EOT_1, 1, 2.0) == b"\x16"
    finally:
        t.close()


def test_resource_busy_names_usblp_and_cups() -> None:
    backend, _, _ = one_printer(busy=True)
    err = failure(UsbTarget(VID, PID), backend)
    assert err.reason == "busy"
    assert "usblp" in err.message and "CUPS" in err.message and "Errno 16" in err.message
    assert "1-1:1.0" in err.message  # the sysfs interface to unbind


def test_a_printer_already_claimed_by_another_transport_is_busy() -> None:
    backend, _, _ = one_printer()
    first = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        assert failure(UsbTarget(VID, PID), backend).reason == "busy"
    finally:
        first.close()
    open_transport(UsbTarget(VID, PID), usb_backend=backend).close()  # free again


@pytest.mark.parametrize("serial", [None, "SL0001"])
def test_access_denied_points_at_the_udev_rule(serial: str | None) -> None:
    backend, _, _ = one_printer(access_denied=True)
    err = failure(UsbTarget(VID, PID, serial=serial), backend)
    assert err.reason == "permission"
    assert "systemd/99-storelink-printers.rules" in err.message
    assert "udevadm control --reload" in err.message


def test_unplugging_mid_job_disconnects_and_replugging_recovers() -> None:
    backend, printer, model = one_printer()
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    t.write(RECEIPT[:10])
    backend.unplug(printer)
    with pytest.raises(TransportError) as info:
        t.write(RECEIPT[10:])
    assert info.value.reason == "disconnected"
    assert model.ended == 1
    with pytest.raises(TransportError) as info:
        t.read(1, 0.1)
    assert info.value.reason == "disconnected"  # closed after the failure
    t.close()
    assert failure(UsbTarget(VID, PID), backend).reason == "not_found"
    backend.plug(printer)
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    t.write(RECEIPT)
    t.close()
    assert bytes(model.received) == RECEIPT[:10] + RECEIPT


def test_unplugging_wakes_a_blocked_read() -> None:
    backend, printer, _ = one_printer()
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    errors: list[TransportError] = []

    def reader() -> None:
        try:
            t.read(1, 60.0)
        except TransportError as e:
            errors.append(e)

    thread = threading.Thread(target=reader)
    thread.start()
    backend.unplug(printer)
    thread.join(30.0)
    assert not thread.is_alive()
    assert [e.reason for e in errors] == ["disconnected"]


def test_a_model_that_lost_power_counts_as_unplugged() -> None:
    backend, _, model = one_printer()
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    model.connected = False
    with pytest.raises(TransportError) as info:
        t.write(RECEIPT)
    assert info.value.reason == "disconnected"


def test_no_such_printer_is_not_found() -> None:
    err = failure(UsbTarget(VID, PID), SimUsbBackend())
    assert err.reason == "not_found"
    backend, _, _ = one_printer(product_id=0x0001)
    assert failure(UsbTarget(VID, PID), backend).reason == "not_found"


def twins() -> tuple[SimUsbBackend, list[SimUsbPrinter], list[StatusModel]]:
    models = [StatusModel(), StatusModel()]
    printers = [
        SimUsbPrinter(models[0], serial="FK-001", port_numbers=(1,)),
        SimUsbPrinter(models[1], serial="FK-002", port_numbers=(2,)),
    ]
    return SimUsbBackend(printers), printers, models


def test_two_alike_printers_without_serial_or_port_is_an_error_listing_both() -> None:
    backend, _, _ = twins()
    with pytest.raises(AmbiguousUsbDeviceError) as info:
        open_transport(UsbTarget(VID, PID), usb_backend=backend)
    err = info.value
    assert err.reason == "not_found"
    assert {(c.serial, c.port_path) for c in err.candidates} == {("FK-001", "1-1"),
                                                                  ("FK-002", "1-2")}
    assert "FK-001" in err.message and "FK-002" in err.message


def test_serial_keeps_the_identity_across_reenumeration_and_port_swaps() -> None:
    backend, printers, models = twins()
    target = UsbTarget(VID, PID, serial="FK-002")
    t = open_transport(target, usb_backend=backend)
    t.write(b"first")
    t.close()
    before = [d.serial_number for d in usb.core.find(find_all=True, backend=backend)]
    backend.reenumerate(ports=[(1,), (2,)])  # reversed order, and the cables swapped ports
    after = [d.serial_number for d in usb.core.find(find_all=True, backend=backend)]
    assert after == before[::-1]
    assert printers[1].port_path == "1-1"
    t = open_transport(target, usb_backend=backend)
    t.write(b"second")
    t.close()
    assert bytes(models[1].received) == b"firstsecond"
    assert bytes(models[0].received) == b""


def test_port_path_selects_printers_without_serial_numbers() -> None:
    models = [StatusModel(), StatusModel()]
    backend = SimUsbBackend([SimUsbPrinter(models[0], serial=None, port_numbers=(1, 4)),
                             SimUsbPrinter(models[1], serial=None, port_numbers=(1, 3))])
    t = open_transport(UsbTarget(VID, PID, port_path="1-1.3"), usb_backend=backend)
    assert t.description == "usb://0416:5011?port=1-1.3"
    t.write(b"x")
    t.close()
    assert (bytes(models[0].received), bytes(models[1].received)) == (b"", b"x")
    assert failure(UsbTarget(VID, PID, port_path="1-2"), backend).reason == "not_found"


def test_a_shared_serial_number_is_settled_by_the_port_path() -> None:
    models = [StatusModel(), StatusModel()]
    backend = SimUsbBackend([SimUsbPrinter(models[0], serial="123456", port_numbers=(1,)),
                             SimUsbPrinter(models[1], serial="123456", port_numbers=(2,))])
    with pytest.raises(AmbiguousUsbDeviceError):
        open_transport(UsbTarget(VID, PID, serial="123456"), usb_backend=backend)
    t = open_transport(UsbTarget(VID, PID, serial="123456", port_path="1-2"),
                       usb_backend=backend)
    t.write(b"y")
    t.close()
    assert (bytes(models[0].received), bytes(models[1].received)) == (b"", b"y")


def test_the_port_fallback_never_takes_a_printer_with_another_serial() -> None:
    backend, _, _ = twins()
    err = failure(UsbTarget(VID, PID, serial="FK-999", port_path="1-1"), backend)
    assert err.reason == "not_found" and "FK-001" in err.message
    model = StatusModel()
    backend = SimUsbBackend([SimUsbPrinter(model, serial=None, port_numbers=(1,))])
    t = open_transport(UsbTarget(VID, PID, serial="FK-999", port_path="1-1"),
                       usb_backend=backend)
    t.write(b"z")
    t.close()
    assert bytes(model.received) == b"z"


def test_a_printer_whose_buffer_is_full_times_out_the_write() -> None:
    backend, _, model = one_printer(stall_after=10)
    t = open_transport(UsbTarget(VID, PID, timeout=0.05), usb_backend=backend)
    try:
        with pytest.raises(TransportError) as info:
            t.write(bytes(100))
        assert info.value.reason == "timeout"
        assert "10 of 100 bytes" in info.value.message
        assert len(model.received) == 10
    finally:
        t.close()


def test_short_bulk_writes_are_resumed_until_everything_is_sent() -> None:
    backend, _, model = one_printer(out_chunk=7)
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    t.write(RECEIPT * 20)
    t.close()
    assert bytes(model.received) == RECEIPT * 20


def test_a_write_only_printer_reads_nothing() -> None:
    backend, _, _ = one_printer(in_ep=None)
    t = open_transport(UsbTarget(VID, PID), usb_backend=backend)
    try:
        assert isinstance(t, UsbTransport) and t.endpoints == (None, 0x03)
        assert t.read(1, 0.01) == b""
        assert query(t, DLE_EOT_1, 1, 0.05) is None
    finally:
        t.close()


def test_close_is_idempotent_ends_the_stream_once_and_reopen_works() -> None:
    backend, _, model = one_printer()
    t = UsbTransport(UsbTarget(VID, PID), backend=backend)
    t.open()
    t.close()
    t.close()
    assert model.ended == 1
    with pytest.raises(TransportError) as info:
        t.write(b"x")
    assert info.value.reason == "disconnected"
    t.open()
    t.write(b"again")
    t.close()
    assert bytes(model.received) == b"again"


def test_backend_serves_strings_and_the_ieee1284_device_id() -> None:
    backend, _, _ = one_printer(
        manufacturer="佳博", product="GP-58 热敏打印机", serial="GP58-0007",
        device_id="MFG:Gprinter;CMD:ESC/POS;MDL:GP-58;CLS:PRINTER;",
    )
    dev = usb.core.find(idVendor=VID, idProduct=PID, backend=backend)
    assert (dev.manufacturer, dev.product, dev.serial_number) == (
        "佳博", "GP-58 热敏打印机", "GP58-0007")
    raw = bytes(dev.ctrl_transfer(0xA1, 0x00, 0, 0, 1024))
    assert int.from_bytes(raw[:2], "big") == len(raw)
    assert raw[2:] == b"MFG:Gprinter;CMD:ESC/POS;MDL:GP-58;CLS:PRINTER;"
    assert bytes(dev.ctrl_transfer(0xA1, 0x01, 0, 0, 1)) == b"\x18"
    usb.util.dispose_resources(dev)


def test_targets_reject_impossible_values() -> None:
    with pytest.raises(InvalidInput) as info:
        UsbTarget(0x10000, PID)
    assert info.value.field == "vendor_id"
    with pytest.raises(InvalidInput) as info:
        UsbTarget(VID, PID, port_path="usb1")
    assert info.value.field == "port_path"
    with pytest.raises(InvalidInput) as info:
        UsbTarget(VID, PID, in_ep=0x02)
    assert info.value.field == "in_ep"
