"""Scanners in the daemon: real pty and FIFO devices → exactly one scan event each on /v1/events."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.devices.config import ScannerConfig
from agent.devices.discovery import DeviceEnv
from agent.devices.scanners import make_decoder
from drivers.scanner.hid import HONEYWELL_LAYOUT
from drivers.sim.scanner import SerialScannerSim, write_hid_scans
from tests.agent.conftest import eventually
from tests.agent.devices.conftest import daemon_client, devices_config, next_event

SENTINEL = "]C0END-OF-TEST"
GS = "\x1d"


async def scans_until_sentinel(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Every scan event up to (not including) the sentinel scan."""
    out: list[dict[str, Any]] = []
    while True:
        event = await next_event(ws, "scan")
        if event["code"] == SENTINEL[3:]:
            return out
        out.append(event)


def hid_write(path: Path, codes: list[str]) -> threading.Thread:
    """Write HID boot reports for `codes` into the FIFO from a thread (open blocks for a reader)."""
    def work() -> None:
        with open(path, "wb") as out:
            write_hid_scans(out, codes)
    t = threading.Thread(target=work, daemon=True)
    t.start()
    return t


async def test_serial_scanner_on_a_pty_gives_one_event_per_scan(tmp_path: Path) -> None:
    with SerialScannerSim(b"\r") as sim:
        cfg = devices_config(tmp_path, scanners=[{
            "id": "till", "name": "收银台扫码枪", "kind": "serial", "device": sim.port,
            "baudrate": 115200, "terminator": "CR"}])
        async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
            assert ctx.devices is not None
            till = ctx.devices.scanners["till"]
            await eventually(lambda: till.snapshot().connected, what="scanner open")
            sim.scan("]E06901234500017")
            sim.scan("]Q1不锈钢合页 4寸 JC-1001 ×4 ¥34.00")
            sim.write(b"6901234500")  # a scan split over two reads
            sim.write(b"024\r")
            sim.scan(SENTINEL)
            events = await scans_until_sentinel(ws)
    assert [(e["device"], e["code"], e["symbology"]) for e in events] == [
        ("till", "6901234500017", "EAN13"),
        ("till", "不锈钢合页 4寸 JC-1001 ×4 ¥34.00", "QR"),
        ("till", "6901234500024", None)]
    assert all(isinstance(e["at_ms"], int) and e["at_ms"] > 0 for e in events)
    assert events[0]["aim"] == "]E0" and events[0]["gs1"] is None


async def test_hid_keyboard_scanner_from_a_fifo_with_gs1_and_chinese(tmp_path: Path) -> None:
    fifo = tmp_path / "hidraw-sim"
    os.mkfifo(fifo)
    cfg = devices_config(tmp_path, scanners=[{"id": "bench", "name": "工位扫码枪",
                                              "kind": "hid", "device": str(fifo)}])
    gs1 = f"]C101069012345000111726113010LOT-A{GS}21SN001"
    async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
        assert ctx.devices is not None
        bench = ctx.devices.scanners["bench"]
        await eventually(lambda: bench.snapshot().connected, what="FIFO open")
        writer = hid_write(fifo, ["]E06901234500024", gs1, "]Q1合页", SENTINEL])
        events = await scans_until_sentinel(ws)
        await asyncio.to_thread(writer.join, 10)
        scanners = await (await client.get("/v1/scanners")).json()
    assert [(e["code"], e["symbology"]) for e in events] == [
        ("6901234500024", "EAN13"), (gs1[3:], "GS1-128"), ("合页", "QR")]
    assert events[1]["gs1"] == {"gtin": "06901234500011", "expiry": "2026-11-30",
                                "batch": "LOT-A", "serial": "SN001"}
    (snap,) = scanners["scanners"]
    assert snap["id"] == "bench" and snap["connected"] and snap["scans"] == 4
    assert [e["code"] for e in scanners["recent"][:4]] == [
        SENTINEL[3:], "合页", gs1[3:], "6901234500024"]


def pos_reports(code: str) -> bytes:
    """Honeywell-layout HID POS reports (64 bytes) for an AIM-prefixed code, continued if long."""
    aim, data = code[:3].encode(), code[3:].encode("utf-8")
    out = b""
    chunks = [data[i:i + HONEYWELL_LAYOUT.max_data]
              for i in range(0, len(data), HONEYWELL_LAYOUT.max_data)]
    for i, chunk in enumerate(chunks):
        report = bytearray(64)
        report[0], report[1] = 0x02, len(chunk)
        report[2:5] = aim
        report[5:5 + len(chunk)] = chunk
        report[63] = 1 if i < len(chunks) - 1 else 0
        out += bytes(report)
    return out


async def test_hid_pos_scanner_joins_continued_reports(tmp_path: Path) -> None:
    fifo = tmp_path / "hidpos-sim"
    os.mkfifo(fifo)
    cfg = devices_config(tmp_path, scanners=[{"id": "dock", "kind": "hid_pos",
                                              "device": str(fifo), "layout": "honeywell"}])
    long_code = "]d1" + "重庆江北建材旗舰店-出库单-XS20261129-0042-" * 2
    async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
        assert ctx.devices is not None
        dock = ctx.devices.scanners["dock"]
        await eventually(lambda: dock.snapshot().connected, what="FIFO open")
        fd = os.open(fifo, os.O_WRONLY)
        try:
            for code in ("]E06901234500031", long_code, SENTINEL):
                data = pos_reports(code)
                while data:  # any write split must give the same reports
                    data = data[os.write(fd, data[:50]):]
        finally:
            os.close(fd)
        events = await scans_until_sentinel(ws)
    assert [(e["code"], e["symbology"]) for e in events] == [
        ("6901234500031", "EAN13"), (long_code[3:], "DATAMATRIX")]


def fake_usb_hid(sysfs: Path, node: str, port: str, serial: str) -> None:
    """A sysfs tree of one USB keyboard-wedge scanner (Honeywell 1900, 0c2e:0b61) → hidraw."""
    usb_dir = sysfs / "devices/pci0000:00/0000:00:14.0/usb1" / port
    intf = usb_dir / f"{port}:1.0"
    hid = intf / f"0003:0C2E:0B61.{node[-1]:0>4}"
    hid.mkdir(parents=True)
    for name, value in {"idVendor": "0c2e", "idProduct": "0b61", "serial": serial,
                        "manufacturer": "Honeywell Imaging & Mobility", "product": "1900"}.items():
        (usb_dir / name).write_text(value + "\n")
    for name, value in {"bInterfaceNumber": "00", "bInterfaceClass": "03",
                        "bInterfaceSubClass": "01", "bInterfaceProtocol": "01"}.items():
        (intf / name).write_text(value + "\n")
    (hid / "report_descriptor").write_bytes(bytes.fromhex("05010906a101050719e029e7"))
    link = sysfs / "class/hidraw" / node
    link.mkdir(parents=True)
    (link / "device").symlink_to(hid)


async def test_hid_scanner_found_by_serial_number_not_by_hidraw_number(tmp_path: Path) -> None:
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    dev.mkdir()
    fake_usb_hid(sysfs, "hidraw2", "1-1.5", "18010B9999")
    fake_usb_hid(sysfs, "hidraw3", "1-1.4", "18010B1234")
    for node in ("hidraw2", "hidraw3"):
        os.mkfifo(dev / node)
    cfg = devices_config(tmp_path, scanners=[{"id": "till", "kind": "hid",
                                              "vendor_id": 0x0C2E, "product_id": 0x0B61,
                                              "serial": "18010B1234"}])
    env = DeviceEnv(sysfs=sysfs, dev_dir=dev)
    async with daemon_client(cfg, env) as (ctx, client), client.ws_connect("/v1/events") as ws:
        assert ctx.devices is not None
        till = ctx.devices.scanners["till"]
        await eventually(lambda: till.snapshot().connected, what="hidraw found")
        assert till.snapshot().source == f"file://{dev / 'hidraw3'}"
        # Nobody reads the other, identical scanner's node.
        with pytest.raises(OSError) as e:
            os.open(dev / "hidraw2", os.O_WRONLY | os.O_NONBLOCK)
        assert e.value.errno == errno.ENXIO
        writer = hid_write(dev / "hidraw3", ["]E06901234500048", SENTINEL])
        events = await scans_until_sentinel(ws)
        await asyncio.to_thread(writer.join, 10)
    assert [(e["device"], e["code"]) for e in events] == [("till", "6901234500048")]


async def test_a_missing_scanner_is_logged_down_once_retried_and_comes_up(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agent.devices.scanners")
    fifo = tmp_path / "later"
    cfg = devices_config(tmp_path, scanners=[{"id": "late", "kind": "hid",
                                              "device": str(fifo)}])
    async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
        assert ctx.devices is not None
        late = ctx.devices.scanners["late"]
        await eventually(lambda: late.snapshot().failures >= 3, what="three failed opens")
        error = late.snapshot().last_error
        assert error is not None and "no device" in error and str(fifo) in error
        os.mkfifo(fifo)
        # The "down" event may or may not precede this WebSocket's subscription: skip it.
        up = await next_event(ws, "scanner")
        while up["id"] == "late" and up["connected"] is False:
            up = await next_event(ws, "scanner")
        assert up["id"] == "late" and up["connected"] is True
        writer = hid_write(fifo, ["6901234500055"])
        scan = await next_event(ws, "scan")
        await asyncio.to_thread(writer.join, 10)
    assert scan["code"] == "6901234500055" and scan["device"] == "late"
    logged = [r.getMessage() for r in caplog.records if r.name == "agent.devices.scanners"]
    assert sum("scanner late down" in m for m in logged) == 1
    assert sum("scanner late connected" in m for m in logged) == 1


@settings(max_examples=50)
@given(st.lists(st.sampled_from(["]E06901234500017", "]Q1合页×4", "]d1" + "批号" * 30]),
                min_size=1, max_size=4),
       st.lists(st.integers(min_value=1, max_value=200), max_size=20))
def test_hid_pos_stream_gives_the_same_scans_for_any_chunking(codes: list[str],
                                                              cuts: list[int]) -> None:
    stream = b"".join(pos_reports(c) for c in codes)
    cfg = ScannerConfig("p", "hid_pos", device="/dev/null")
    whole = make_decoder(cfg, per_read_reports=False).feed(stream, 7)
    chunked_decoder = make_decoder(cfg, per_read_reports=False)
    chunked, pos = [], 0
    for n in [*cuts, len(stream)]:
        chunked += chunked_decoder.feed(stream[pos:pos + n], 7)
        pos += n
    assert chunked == whole
    assert [r.data.decode() for r in whole] == codes


def test_decoders_follow_the_configured_framing() -> None:
    serial = make_decoder(ScannerConfig("s", "serial", device="/dev/null", terminator="NONE",
                                        idle_timeout_ms=50), per_read_reports=False)
    assert serial.feed(b"6901234500017", 1000) == []
    (raw,) = serial.tick(1050)
    assert raw.data == b"6901234500017" and raw.at_ms == 1000
    pos = make_decoder(ScannerConfig("p", "hid_pos", device="/dev/null", report_size=64),
                       per_read_reports=True)
    (raw,) = pos.feed(pos_reports("]E06901234500017"), 5)
    assert raw.data == b"]E06901234500017"
