"""Kernel uevent parsing and the one-ticket-per-attachment self-test gate."""

from __future__ import annotations

import socket

from hypothesis import given
from hypothesis import strategies as st

from agent.devices.hotplug import (
    NETLINK_KOBJECT_UEVENT,
    SelfTestGate,
    UeventListener,
    parse_uevent,
    uevent_matters,
)
from tests.agent.conftest import eventually

USB_ADD = (b"add@/devices/pci0000:00/0000:00:14.0/usb1/1-1\0ACTION=add\0"
           b"DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1\0SUBSYSTEM=usb\0MAJOR=189\0"
           b"MINOR=1\0DEVNAME=bus/usb/001/002\0DEVTYPE=usb_device\0PRODUCT=416/5011/100\0"
           b"TYPE=0/0/0\0BUSNUM=001\0DEVNUM=002\0SEQNUM=2843\0")
HIDRAW_REMOVE = (b"remove@/devices/pci0000:00/0000:00:14.0/usb1/1-1.4/1-1.4:1.0/"
                 b"0003:0C2E:0B61.0001/hidraw/hidraw3\0ACTION=remove\0SUBSYSTEM=hidraw\0"
                 b"DEVNAME=hidraw3\0SEQNUM=2901\0")
BATTERY_CHANGE = b"change@/devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0\0ACTION=change\0" \
                 b"SUBSYSTEM=power_supply\0"
LIBUDEV = b"libudev\0\xfe\xed\xca\xfe\x28\x00\x00\x00ACTION=add\0SUBSYSTEM=usb\0"


def test_uevents_of_watched_buses_trigger_a_rescan() -> None:
    add = parse_uevent(USB_ADD)
    assert add is not None and add["PRODUCT"] == "416/5011/100" and uevent_matters(add)
    remove = parse_uevent(HIDRAW_REMOVE)
    assert remove is not None and remove["DEVNAME"] == "hidraw3" and uevent_matters(remove)
    battery = parse_uevent(BATTERY_CHANGE)
    assert battery is not None and not uevent_matters(battery)
    assert parse_uevent(LIBUDEV) is None
    assert parse_uevent(b"") is None
    bare = parse_uevent(b"add@/devices/x")
    assert bare == {"ACTION": "add", "DEVPATH": "/devices/x"}


@given(st.binary(max_size=300))
def test_uevent_parsing_never_raises(data: bytes) -> None:
    fields = parse_uevent(data)
    if fields is not None:
        assert "ACTION" in fields and "DEVPATH" in fields
        uevent_matters(fields)


async def test_one_ticket_per_attachment_whoever_asks() -> None:
    printed: list[str] = []

    async def print_ticket(printer_id: str) -> None:
        printed.append(printer_id)

    gate = SelfTestGate(print_ticket)
    await gate.ready("front")
    await gate.ready("front")  # the watcher and the printer's first-ready hook both ask
    await gate.ready("warehouse")
    assert printed == ["front", "warehouse"]
    gate.detached("front")
    await gate.ready("front")
    await gate.ready("warehouse")
    assert printed == ["front", "warehouse", "front"]


async def test_a_uevent_on_a_watched_bus_wakes_the_watcher() -> None:
    wakes: list[int] = []
    listener = UeventListener(lambda: wakes.append(1))
    if not listener.start():  # no netlink here: periodic rescans alone must do
        assert listener.port_id is None
        return
    sender = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
    try:
        sender.bind((0, 0))
        port = listener.port_id
        assert port is not None
        sender.sendto(BATTERY_CHANGE, (port, 0))
        await eventually(lambda: listener.messages == 1, what="the battery uevent read")
        assert wakes == []
        sender.sendto(HIDRAW_REMOVE, (port, 0))
        await eventually(lambda: wakes == [1], what="a wake for the hidraw removal")
    finally:
        sender.close()
        listener.close()
    assert listener.port_id is None
