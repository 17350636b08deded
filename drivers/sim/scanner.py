"""Simulated scanners: a serial scanner on a pty and a HID keyboard-wedge writing boot reports."""

from __future__ import annotations

import os
import stat
import time
import tty
from collections.abc import Iterable
from typing import BinaryIO, TextIO

from drivers import InvalidInput
from drivers.scanner.framing import terminator_bytes
from drivers.scanner.hid import KEY_ENTER, KEY_TAB, KEYPAD_KEYS, US_KEYS

MOD_LEFT_CTRL = 0x01
MOD_LEFT_SHIFT = 0x02
MOD_LEFT_ALT = 0x04
KEY_UP = bytes(8)
_HID_TERMINATOR_KEYS = {"CR": KEY_ENTER, "LF": KEY_ENTER, "CRLF": KEY_ENTER, "TAB": KEY_TAB}


def _reverse_table() -> dict[str, tuple[int, int]]:
    table: dict[str, tuple[int, int]] = {}
    for key in sorted(US_KEYS):
        plain, shifted = US_KEYS[key]
        table.setdefault(plain, (key, 0))
        table.setdefault(shifted, (key, MOD_LEFT_SHIFT))
    return table


_CHAR_KEYS = _reverse_table()
_KEYPAD_DIGIT_KEYS = {v: k for k, v in KEYPAD_KEYS.items() if v.isdigit()}


def _report(mods: int, key: int = 0) -> bytes:
    return bytes([mods, 0, key, 0, 0, 0, 0, 0])


def _alt_code(code: int) -> list[bytes]:
    reports = [_report(MOD_LEFT_ALT)]
    for digit in str(code):
        reports += [_report(MOD_LEFT_ALT, _KEYPAD_DIGIT_KEYS[digit]), _report(MOD_LEFT_ALT)]
    return [*reports, KEY_UP]


def hid_reports(code: str, terminator: str = "CR") -> list[bytes]:
    """The boot-keyboard reports a US-layout scanner sends for `code`: key down, key up.

    Control characters go as Ctrl+key (GS = Ctrl+]); other characters beyond ASCII as
    Alt + keypad digits of their Latin-1 or GB18030 double-byte code (a Chinese "Alt mode").
    `terminator` CR/LF/CRLF presses Enter, TAB presses Tab, NONE nothing.
    """
    if terminator.upper() != "NONE" and terminator.upper() not in _HID_TERMINATOR_KEYS:
        terminator_bytes(terminator)  # raises InvalidInput naming the choices
        raise InvalidInput("terminator", f"{terminator!r} has no key")
    reports: list[bytes] = []
    for i, ch in enumerate(code):
        if ch in _CHAR_KEYS:
            key, mods = _CHAR_KEYS[ch]
            reports += [_report(mods, key), KEY_UP]
        elif ord(ch) < 0x20 and chr(ord(ch) + 0x40).lower() in _CHAR_KEYS:
            key, mods = _CHAR_KEYS[chr(ord(ch) + 0x40).lower()]
            reports += [_report(mods | MOD_LEFT_CTRL, key), KEY_UP]
        elif 0x80 <= ord(ch) < 0x100:
            reports += _alt_code(ord(ch))
        else:
            try:
                data = ch.encode("gb18030")
            except UnicodeEncodeError:
                data = b""
            if len(data) != 2:
                raise InvalidInput(f"code[{i}]", f"{ch!r} cannot be typed by a HID scanner")
            reports += _alt_code(data[0] << 8 | data[1])
    end_key = _HID_TERMINATOR_KEYS.get(terminator.upper())
    if end_key is not None:
        reports += [_report(0, end_key), KEY_UP]
    return reports


def write_hid_scans(out: BinaryIO, codes: Iterable[str], terminator: str = "CR") -> int:
    """Write the reports of each code to `out` (a FIFO, a file), flushing per code; the count."""
    count = 0
    for code in codes:
        out.write(b"".join(hid_reports(code, terminator)))
        out.flush()
        count += 1
    return count


class SerialScannerSim:
    """A serial scanner on a pseudo-terminal: open `port` with pyserial and read its scans.

    Open the reading side before scanning: opening a serial port discards unread input.
    """

    def __init__(self, terminator: bytes = b"\r", encoding: str = "utf-8") -> None:
        self.terminator = terminator
        self.encoding = encoding
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._closed = False

    def __enter__(self) -> SerialScannerSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self, code: str) -> None:
        """Send one code and the terminator, as the scanner does after a good read."""
        self.write(code.encode(self.encoding) + self.terminator)

    def write(self, data: bytes) -> None:
        """Send raw bytes (noise, a half line, a different terminator)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._master, view) :]

    def close(self) -> None:
        """Unplug: close the pty."""
        if not self._closed:
            self._closed = True
            os.close(self._master)
            os.close(self._slave)


def _codes(lines: TextIO) -> Iterable[str]:
    for line in lines:
        code = line.rstrip("\r\n")
        if code:
            yield code


def run_scanner_sim(
    kind: str,
    codes_from: TextIO,
    terminator: str = "CR",
    *,
    path: str | None = None,
    announce: TextIO | None = None,
    interval_s: float = 0.0,
) -> int:
    """Scan each non-empty line of `codes_from`; returns how many codes were sent.

    kind "serial": a pty (its path is announced). kind "hid": boot reports written to `path`;
    a FIFO is created there if nothing exists (opening it waits for a reader).
    """
    if kind == "serial":
        with SerialScannerSim(terminator_bytes(terminator)) as sim:
            _say(announce, f"serial scanner on {sim.port}")
            count = 0
            for code in _codes(codes_from):
                sim.scan(code)
                count += 1
                if interval_s:
                    time.sleep(interval_s)
            return count
    if kind == "hid":
        if not path:
            raise InvalidInput("path", "a FIFO or file path is needed for a HID scanner")
        hid_reports("", terminator)  # check the terminator before waiting for a reader
        if not os.path.exists(path):
            os.mkfifo(path)
        fifo = stat.S_ISFIFO(os.stat(path).st_mode)
        _say(announce, f"hid scanner writing to {'FIFO ' if fifo else ''}{path}")
        count = 0
        with open(path, "wb") as out:
            for code in _codes(codes_from):
                count += write_hid_scans(out, [code], terminator)
                if interval_s:
                    time.sleep(interval_s)
        return count
    raise InvalidInput("kind", f"{kind!r} is not serial or hid")


def _say(announce: TextIO | None, text: str) -> None:
    if announce is not None:
        announce.write(text + "\n")
        announce.flush()
