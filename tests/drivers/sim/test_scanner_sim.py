"""Scanner simulators: HID report encoding, and round trips over a real pty and a real FIFO."""

from __future__ import annotations

import io
import os
import re
import threading
import time
from pathlib import Path

import pytest
import serial

from drivers import InvalidInput
from drivers.scanner.events import Scan, make_scan
from drivers.scanner.framing import RawScan, ScanFramer
from drivers.scanner.hid import HidKeyboardDecoder
from drivers.sim.scanner import SerialScannerSim, hid_reports, run_scanner_sim, write_hid_scans
from tests.drivers.polling import wait_for

AT = 1_767_225_600_000
DEADLINE_S = 20.0
CODES = [
    "]E06901234500017",  # 不锈钢合页 4寸, from the catalog
    "]E06901234500024",
    "]Q1合计 12.50 找零 3.50",
    "]C101069012345000111726113010LOT-A\x1d21SN001",
    "JC-2001",
]


def read_scans(port: serial.Serial, framer: ScanFramer, want: int) -> list[RawScan]:
    scans: list[RawScan] = []
    end = time.monotonic() + DEADLINE_S
    while len(scans) < want and time.monotonic() < end:
        scans += framer.feed(port.read(max(port.in_waiting, 1)), 0)
    return scans


def test_hid_reports_for_a_shifted_letter_are_the_real_bytes() -> None:
    assert hid_reports("A") == [
        bytes.fromhex("02 00 04 00 00 00 00 00"),
        bytes.fromhex("00 00 00 00 00 00 00 00"),
        bytes.fromhex("00 00 28 00 00 00 00 00"),
        bytes.fromhex("00 00 00 00 00 00 00 00"),
    ]
    assert hid_reports("1", "TAB")[2] == bytes.fromhex("00 00 2b 00 00 00 00 00")
    assert len(hid_reports("1", "NONE")) == 2


def test_hid_reports_for_gs_and_chinese() -> None:
    assert hid_reports("\x1d", "NONE")[0] == bytes.fromhex("01 00 30 00 00 00 00 00")
    alt = hid_reports("中", "NONE")  # GBK D6D0 = Alt + keypad 5 4 9 9 2
    assert alt[0] == bytes.fromhex("04 00 00 00 00 00 00 00")
    keys = [r[2] for r in alt[1:-1:2]]
    assert keys == [0x5D, 0x5C, 0x61, 0x61, 0x5A]
    assert alt[-1] == bytes(8)


def test_untypeable_characters_and_bad_terminators_are_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        hid_reports("ok😀")
    assert exc.value.field == "code[2]"
    with pytest.raises(InvalidInput):
        hid_reports("x", "ETX")


@pytest.mark.parametrize(("term", "wire"), [(b"\r", b"\r"), (b"\r\n", b"\r\n"), (b"\t", b"\t")])
def test_serial_scanner_round_trip_over_a_pty(term: bytes, wire: bytes) -> None:
    with (
        SerialScannerSim(terminator=term) as sim,
        serial.Serial(sim.port, baudrate=9600, timeout=0.2) as port,
    ):
        for code in CODES:
            sim.scan(code)
        raw = read_scans(port, ScanFramer(wire), len(CODES))
    scans = [make_scan("ttyACM0", r.data, AT) for r in raw]
    assert [s.code for s in scans] == [
        "6901234500017",
        "6901234500024",
        "合计 12.50 找零 3.50",
        "01069012345000111726113010LOT-A\x1d21SN001",
        "JC-2001",
    ]
    assert [s.symbology for s in scans] == ["EAN13", "EAN13", "QR", "GS1-128", None]
    assert scans[3].gs1 == {
        "gtin": "06901234500011",
        "expiry": "2026-11-30",
        "batch": "LOT-A",
        "serial": "SN001",
    }


def test_line_noise_on_the_serial_line_is_dropped() -> None:
    framer = ScanFramer(b"\r", max_len=32)
    with SerialScannerSim() as sim, serial.Serial(sim.port, timeout=0.2) as port:
        sim.write(b"\x00\xff\xfe\x00\r")  # a wrong baud rate looks like this
        sim.write(b"9" * 100 + b"\r")  # a runaway scan
        sim.scan("6901234500031")
        raw = read_scans(port, framer, 1)
    assert raw == [RawScan(b"6901234500031", 0)]
    assert (framer.garbage, framer.overlong) == (1, 1)


def test_run_scanner_sim_serial_reads_codes_line_by_line() -> None:
    read_fd, write_fd = os.pipe()
    announce = io.StringIO()
    sent: list[int] = []
    with os.fdopen(read_fd, "r", encoding="utf-8") as codes_from:
        worker = threading.Thread(
            target=lambda: sent.append(
                run_scanner_sim("serial", codes_from, "CRLF", announce=announce)
            )
        )
        worker.start()
        wait_for(lambda: "serial scanner on" in announce.getvalue(), "the port announcement")
        match = re.search(r"on (\S+)", announce.getvalue())
        assert match is not None
        with (
            serial.Serial(match.group(1), timeout=0.2) as port,
            os.fdopen(write_fd, "w", encoding="utf-8") as feeder,
        ):
            feeder.write("6901234500048\n\n]Q1找零 3.50\n")
            feeder.flush()
            raw = read_scans(port, ScanFramer(b"\r\n"), 2)
        worker.join(DEADLINE_S)
    assert [r.data.decode() for r in raw] == ["6901234500048", "]Q1找零 3.50"]
    assert sent == [2]


def test_hid_scanner_round_trip_through_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "scanner.hid"
    codes = "\n".join(CODES) + "\n"
    sent: list[int] = []
    worker = threading.Thread(
        target=lambda: sent.append(run_scanner_sim("hid", io.StringIO(codes), "CR", path=str(fifo)))
    )
    worker.start()
    wait_for(fifo.exists, "the FIFO")
    decoder = HidKeyboardDecoder()
    raw: list[RawScan] = []
    sizes = [1, 7, 8, 9, 64, 3]
    with open(fifo, "rb", buffering=0) as reader:
        i = 0
        while chunk := reader.read(sizes[i % len(sizes)]):
            raw += decoder.feed_stream(chunk, 0)
            i += 1
    worker.join(DEADLINE_S)
    scans = [make_scan("hidraw0", r.data, AT) for r in raw]
    assert [s.code for s in scans] == [make_scan("x", c.encode(), AT).code for c in CODES]
    assert isinstance(scans[3], Scan) and scans[3].gs1 is not None
    assert sent == [len(CODES)]


def test_hid_reports_written_to_a_file_replay_the_same(tmp_path: Path) -> None:
    capture = tmp_path / "capture.bin"
    with open(capture, "wb") as out:
        assert write_hid_scans(out, ["合计", "A-01-03"], "TAB") == 2
    decoder = HidKeyboardDecoder(terminator="tab")
    raw = decoder.feed_stream(capture.read_bytes(), 5)
    assert [r.data.decode() for r in raw] == ["合计", "A-01-03"]


def test_run_scanner_sim_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput) as exc:
        run_scanner_sim("bluetooth", io.StringIO(""))
    assert exc.value.field == "kind"
    with pytest.raises(InvalidInput) as exc:
        run_scanner_sim("hid", io.StringIO(""))
    assert exc.value.field == "path"
