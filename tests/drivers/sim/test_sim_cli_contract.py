"""The simulators' contract of docs/devices.md §9, through the shipped commands (`python -m agent
sim …` in a child process): banner, output files, jobs ending at cuts, control lines, the serial
scanner's pty on stderr and the HID scanner's FIFO that waits for its reader."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import serial

from drivers.scanner.framing import ScanFramer
from drivers.scanner.hid import HidKeyboardDecoder

ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 30.0
CUT = b"\x1dVA\x03"


def _receipt(text: str) -> bytes:
    return b"\x1b@\x1c&" + f"{text}\n合计 ¥70.00\n".encode("gb18030") + b"\x1c." + CUT


@pytest.fixture
def storelink() -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(DEADLINE)


def _start(procs: list[subprocess.Popen[str]], *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-m", "agent", *args], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                         cwd=ROOT)
    procs.append(p)
    return p


class Lines:
    """A child's output lines, read by a thread (select() cannot see what readline buffered)."""

    def __init__(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self._q: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._q.put(line.strip())

    def next(self) -> str:
        """The next line (fails after DEADLINE)."""
        return self._q.get(timeout=DEADLINE)


def _say(p: subprocess.Popen[str], out: Lines, command: str) -> str:
    assert p.stdin is not None
    p.stdin.write(command + "\n")
    p.stdin.flush()
    return out.next()


def _wait(cond: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_sim_printer_banner_files_cuts_and_control_lines(
        tmp_path: Path, storelink: list[subprocess.Popen[str]]) -> None:
    p = _start(storelink, "sim", "printer", "--port", "0", "--out", str(tmp_path))
    out = Lines(p.stdout)
    banner = out.next().split()
    assert banner[:3] == ["listening", "tcp", "127.0.0.1"] and int(banner[3]) > 0
    port = int(banner[3])
    one, two = _receipt("重庆江北建材旗舰店"), _receipt("渝中解放碑通讯店")
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(one + two + b"\x1bp\x00\x19\xfa")  # two jobs on one connection, then a kick
    assert out.next().startswith("job 1 printed ")
    assert out.next().startswith("job 2 printed ")
    assert (tmp_path / "job-0001.bin").read_bytes() == one  # a job ends at its cut
    assert (tmp_path / "job-0002.bin").read_bytes() == two
    assert (tmp_path / "job-0001.png").exists() and (tmp_path / "job-0002.png").exists()
    assert out.next().startswith("job 3 printed ")  # the kick alone, at end of stream
    assert _say(p, out, "drawer") == "drawer 1 kicks"
    assert _say(p, out, "status") == "state ok"
    assert _say(p, out, "state paper_out") == "state paper_out"
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(_receipt("缺纸时的小票"))
    assert out.next().startswith("job 4 dropped ")
    assert (tmp_path / "job-0004-dropped.bin").exists()
    assert not (tmp_path / "job-0004.png").exists()
    assert _say(p, out, "jobs") == "jobs 3 printed, 1 dropped"
    assert _say(p, out, "delay 1.5") == "delay 1.5"
    assert _say(p, out, "delay soon").startswith("error:")
    assert _say(p, out, "dance").startswith("error: unknown command")
    p.terminate()
    assert p.wait(DEADLINE) == 0


def test_sim_display_names_its_pty(storelink: list[subprocess.Popen[str]]) -> None:
    p = _start(storelink, "sim", "display", "--kind", "vfd")
    first = Lines(p.stdout).next()
    assert first.startswith("vfd customer display on /dev/"), first


def test_sim_scanner_serial_names_its_pty_on_stderr(
        storelink: list[subprocess.Popen[str]]) -> None:
    p = _start(storelink, "sim", "scanner", "--kind", "serial", "--terminator", "CRLF")
    announced = Lines(p.stderr).next()
    assert announced.startswith("serial scanner on /dev/")
    with serial.Serial(announced.split()[-1], timeout=0.2) as port:
        assert p.stdin is not None
        p.stdin.write("6901234500048\n]Q1找零 3.50\n")
        p.stdin.flush()
        framer, got = ScanFramer(b"\r\n"), list[str]()
        deadline = time.monotonic() + DEADLINE
        while len(got) < 2 and time.monotonic() < deadline:
            got += [r.data.decode() for r in framer.feed(port.read(64), 0)]
        p.stdin.close()  # the end of the codes unplugs the scanner
    assert got == ["6901234500048", "]Q1找零 3.50"]
    assert p.wait(DEADLINE) == 0


def test_sim_scanner_hid_makes_a_fifo_and_waits_for_its_reader(
        tmp_path: Path, storelink: list[subprocess.Popen[str]]) -> None:
    fifo = tmp_path / "scanner.hid"
    p = _start(storelink, "sim", "scanner", "--kind", "hid", "--path", str(fifo))
    assert p.stdin is not None
    p.stdin.write("6901234500055\n")
    p.stdin.close()
    assert Lines(p.stderr).next() == f"hid scanner writing to FIFO {fifo}"
    assert fifo.is_fifo()
    assert p.poll() is None  # announced, and waiting: nobody reads the FIFO yet
    got: list[str] = []

    def read() -> None:
        decoder = HidKeyboardDecoder()
        with open(fifo, "rb", buffering=0) as reader:
            while chunk := reader.read(64):
                got.extend(r.data.decode() for r in decoder.feed_stream(chunk, 0))

    reader = threading.Thread(target=read)
    reader.start()
    assert p.wait(DEADLINE) == 0
    reader.join(DEADLINE)
    assert got == ["6901234500055"]
    _wait(lambda: not reader.is_alive(), "the reader")
