"""Simulated customer displays: sans-I/O models of a 2×20 VFD and an LED price display."""

from __future__ import annotations

import threading
from typing import TextIO

from drivers import InvalidInput
from drivers.display.price import Lamp
from drivers.display.vfd import COLUMNS, ROWS
from drivers.sim.shells import PtyShell

ESC, US = 0x1B, 0x1F
_MAX_NUMBER = 32  # an ESC Q A without CR after this many bytes is line noise


class _CommandStream:
    """A display fed host bytes in any chunking, one whole command at a time (`_step`)."""

    _pending: bytes

    def receive(self, data: bytes) -> bytes:
        """Consume host bytes, any chunking; the display never answers."""
        buf = self._pending + data
        pos = 0
        while pos < len(buf):
            used = self._step(buf, pos)
            if used == 0:
                break  # an incomplete command: wait for more bytes
            pos += used
        self._pending = buf[pos:]
        return b""

    def end_of_stream(self) -> None:
        """The host closed the port; a half-received command is forgotten."""
        self._pending = b""

    def _step(self, buf: bytes, pos: int) -> int:
        """Handle the command at `buf[pos]` if it is whole: the bytes it took, else 0."""
        raise NotImplementedError


class VfdDisplayModel(_CommandStream):
    """A 2×20 ESC/POS customer display: parses what it receives into its two lines of cells."""

    def __init__(self) -> None:
        self.connected = True
        self.reply_delay = 0.0
        self.unknown = 0
        self._pending = b""
        self._reset()

    @property
    def lines(self) -> tuple[str, str]:
        """The two lines as shown, 20 cells each; a double-byte character decoded as GB18030."""
        return (
            self._rows[0].decode("gb18030", errors="replace"),
            self._rows[1].decode("gb18030", errors="replace"),
        )

    @property
    def cells(self) -> tuple[bytes, bytes]:
        """The raw bytes in the cells of each line."""
        return bytes(self._rows[0]), bytes(self._rows[1])

    @property
    def cursor(self) -> tuple[int, int]:
        """Cursor as (column 1-20, row 1-2)."""
        return self._col + 1, self._row + 1

    def _reset(self) -> None:
        self._rows = [bytearray(b" " * COLUMNS) for _ in range(ROWS)]
        self._col = self._row = 0
        self.mode = 1  # 1 overwrite, 2 vertical scroll, 3 horizontal scroll
        self.cursor_shown = True
        self.brightness = 4

    def _step(self, buf: bytes, pos: int) -> int:
        b = buf[pos]
        need = {ESC: 2, US: 2}.get(b, 1)
        if b in (ESC, US) and pos + 1 < len(buf):
            need = _command_length(b, buf[pos + 1])
        if pos + need > len(buf):
            return 0
        if b == ESC:
            self._escape(buf[pos + 1])
        elif b == US:
            self._unit_separator(buf[pos + 1 : pos + need])
        elif b >= 0x20:
            self._write(b)
        else:
            self._control(b)
        return need

    def _escape(self, op: int) -> None:
        if op == 0x40:
            self._reset()
        elif op != 0x3D:  # ESC = n selects the display on a shared line: nothing to do
            self.unknown += 1

    def _unit_separator(self, args: bytes) -> None:
        op = args[0]
        if op in (0x01, 0x02, 0x03):
            self.mode = op
        elif op == 0x24:
            col, row = args[1], args[2]
            if 1 <= col <= COLUMNS and 1 <= row <= ROWS:
                self._col, self._row = col - 1, row - 1
            else:
                self.unknown += 1
        elif op == 0x43:
            self.cursor_shown = bool(args[1] & 1)
        elif op == 0x58:
            self.brightness = args[1]
        else:
            self.unknown += 1

    def _control(self, b: int) -> None:
        if b == 0x0C:
            self._rows = [bytearray(b" " * COLUMNS) for _ in range(ROWS)]
            self._col = self._row = 0
        elif b == 0x0B:
            self._col = self._row = 0
        elif b == 0x0D:
            self._col = 0
        elif b == 0x0A:
            self._line_feed()
        elif b == 0x08:
            self._col = max(self._col - 1, 0)
        elif b == 0x09:
            self._col = min(self._col + 1, COLUMNS - 1)
        elif b == 0x18:
            self._rows[self._row][:] = b" " * COLUMNS
            self._col = 0
        else:
            self.unknown += 1

    def _write(self, b: int) -> None:
        self._rows[self._row][self._col] = b
        self._col += 1
        if self._col == COLUMNS:
            self._col = 0
            self._line_feed()

    def _line_feed(self) -> None:
        if self._row + 1 < ROWS:
            self._row += 1
        elif self.mode == 2:
            self._rows = [self._rows[1], bytearray(b" " * COLUMNS)]
        else:
            self._row = 0  # overwrite mode wraps to the upper line


def _command_length(lead: int, op: int) -> int:
    if lead == ESC:
        return 3 if op == 0x3D else 2
    return {0x24: 4, 0x43: 3, 0x58: 3, 0x45: 3}.get(op, 2)


class PriceDisplayModel(_CommandStream):
    """The Chinese LED price display: parses ESC s n / ESC Q A … CR into its lamp and number."""

    def __init__(self) -> None:
        self.connected = True
        self.reply_delay = 0.0
        self.unknown = 0
        self.lamp = Lamp.OFF
        self.number = ""
        self._pending = b""

    @property
    def amount_fen(self) -> int | None:
        """The number shown, read as yuan, in fen; None if blank or not two decimals at most."""
        whole, _, frac = self.number.partition(".")
        if not self.number or len(frac) > 2 or not (whole or frac):
            return None
        return int(whole or "0") * 100 + int((frac + "00")[:2])

    def _step(self, buf: bytes, pos: int) -> int:
        b = buf[pos]
        if b == 0x0C:
            self.number = ""
            return 1
        if b != ESC:
            self.unknown += 1
            return 1
        if pos + 1 >= len(buf):
            return 0
        op = buf[pos + 1]
        if op == 0x40:
            self.lamp, self.number = Lamp.OFF, ""
            return 2
        if op == 0x73:
            if pos + 2 >= len(buf):
                return 0
            n = buf[pos + 2]
            if 0x30 <= n <= 0x34:
                self.lamp = Lamp(n - 0x30)
            else:
                self.unknown += 1
            return 3
        if op == 0x51:
            return self._number(buf, pos)
        self.unknown += 1
        return 2

    def _number(self, buf: bytes, pos: int) -> int:
        if pos + 2 >= len(buf):
            return 0
        if buf[pos + 2] != 0x41:
            self.unknown += 1
            return 3
        end = buf.find(b"\r", pos + 3, pos + 3 + _MAX_NUMBER + 1)
        if end < 0:
            if len(buf) - pos - 3 <= _MAX_NUMBER:
                return 0
            self.unknown += 1
            return 3
        text = buf[pos + 3 : end].decode("latin-1")
        if text and all(c.isdigit() or c == "." for c in text) and text.isascii():
            self.number = text
        else:
            self.unknown += 1
        return end + 1 - pos


class _Announcing:
    """Wraps a display model so that every change of what it shows is printed."""

    def __init__(self, model: VfdDisplayModel | PriceDisplayModel, out: TextIO) -> None:
        self.model = model
        self.out = out
        self.connected = True
        self.reply_delay = 0.0

    def receive(self, data: bytes) -> bytes:
        """Pass `data` to the model; print the display if it changed."""
        before = self._shown()
        reply = self.model.receive(data)
        if self._shown() != before:
            self.out.write(self._shown())
            self.out.flush()
        return reply

    def end_of_stream(self) -> None:
        """Pass the end of stream to the model."""
        self.model.end_of_stream()

    def _shown(self) -> str:
        if isinstance(self.model, VfdDisplayModel):
            upper, lower = self.model.lines
            return f"|{upper}|\n|{lower}|\n"
        return f"[{self.model.lamp.label or '-'}] {self.model.number}\n"


def run_display_sim(kind: str, announce: TextIO, stop: threading.Event) -> None:
    """Serve a "vfd" or "price" display on a pty until `stop`, printing what it shows."""
    model: VfdDisplayModel | PriceDisplayModel
    if kind == "vfd":
        model = VfdDisplayModel()
    elif kind == "price":
        model = PriceDisplayModel()
    else:
        raise InvalidInput("kind", f"{kind!r} is not vfd or price")
    with PtyShell(_Announcing(model, announce)) as shell:
        announce.write(f"{kind} customer display on {shell.device_path}\n")
        announce.flush()
        stop.wait()
