"""Streaming TSPL interpreter: command bytes in, drawn labels and status queries out (pure).

Tolerant and bounded: unknown or malformed commands are skipped with a Notice, lines longer than
MAX_LINE and bitmaps larger than MAX_BITMAP are dropped, and nothing is raised for bad input.
`<ESC>!c` immediate commands are recognised anywhere except inside BITMAP data, as on a printer.
"""

from __future__ import annotations

import re

from drivers.escpos.document import validate_barcode
from drivers.label.command_reader import (
    MAX_ELEMENTS,
    MAX_LABEL_BITMAP,
    SKIPPED,
    BadCommandError,
    CommandReader,
)
from drivers.label.drawing import (
    DrawBar,
    DrawBarcode,
    DrawBitmap,
    DrawBox,
    Drawing,
    DrawQR,
    DrawText,
    Event,
    Notice,
    ParsedLabel,
    Query,
)
from drivers.label.layout import char_cols, hri_height
from drivers.label.symbols import qr_matrix

__all__ = ["MAX_BITMAP", "MAX_ELEMENTS", "MAX_LABEL_BITMAP", "MAX_LINE", "TsplReader"]

MAX_LINE = 65536
MAX_BITMAP = 2_000_000
MAX_DOTS = 6000
ESC, LF = 0x1B, 0x0A
_BITMAP = re.compile(rb"[ \t]*BITMAP[ \t]+" + rb"[ \t]*,[ \t]*".join([rb"(\d{1,6})"] * 5)
                     + rb"[ \t]*,", re.I)
_DELIM = re.compile(rb"[\x1b\n]")
_COMMAND = re.compile(rb"[ \t]*([A-Za-z][A-Za-z0-9_]*)[ \t]*(.*?)[ \t\r]*$", re.S)
# Resident bitmap fonts: name -> (ASCII cell width, height); Chinese fonts give Han two columns.
_FONTS = {"1": (8, 12), "2": (12, 20), "3": (16, 24), "4": (24, 32), "5": (32, 48),
          "6": (14, 19), "7": (21, 27), "8": (14, 25), "TSS24.BF2": (12, 24),
          "TST24.BF2": (12, 24), "TSS16.BF2": (8, 16), "TST16.BF2": (8, 16)}
_SYMBOLOGY = {"128": "CODE128", "128M": "CODE128", "EAN13": "EAN13", "39": "CODE39",
              "39S": "CODE39", "39C": "CODE39"}
_IGNORED = {"GAP", "BLINE", "DIRECTION", "REFERENCE", "CODEPAGE", "DENSITY", "SPEED", "SET",
            "OFFSET", "SHIFT", "HOME", "FORMFEED", "CUT", "SOUND", "LIMITFEED", "SELFTEST",
            "INITIALPRINTER", "EOP", "KILL", "DOWNLOAD", "MOVE", "BACKFEED", "BACKUP"}


def _split(rest: bytes) -> list[tuple[bool, bytes]]:
    """Parameters split at commas outside quotes; quoted ones unescaped (`\\["]` is `"`)."""
    out: list[tuple[bool, bytes]] = []
    i = 0
    while i <= len(rest):
        while i < len(rest) and rest[i] in b" \t":
            i += 1
        if i < len(rest) and rest[i] == 0x22:
            j = i + 1
            value = bytearray()
            while True:
                if j >= len(rest):
                    raise BadCommandError("unterminated string")
                if rest.startswith(b'\\["]', j):
                    value += b'"'
                    j += 4
                elif rest[j] == 0x22:
                    break
                else:
                    value.append(rest[j])
                    j += 1
            out.append((True, bytes(value)))
            j = rest.find(b",", j + 1)
        else:
            j = rest.find(b",", i)
            out.append((False, (rest[i:] if j < 0 else rest[i:j]).strip()))
        if j < 0:
            break
        i = j + 1
    return out


class TsplReader(CommandReader):
    """Feed TSPL bytes in any chunks; get the same events whatever the chunking."""

    def __init__(self, dpi: int = 203, fonts: tuple[str, ...] = ("TSS24.BF2",),
                 width: int = 832) -> None:
        super().__init__(dpi, fonts)
        self._mode = "line"
        self._need = 0
        self._head: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
        self._payload = bytearray()
        self.width = width
        self.height = width // 2
        self._frozen: tuple[Drawing, ...] = ()  # the elements as last printed, shared by labels

    # -- bytes ---------------------------------------------------------------------------

    def finish(self) -> list[Event]:
        """The host is done: interpret a last line without its line feed, drop partial data."""
        events: list[Event] = []
        if self._mode == "binary":
            events.append(Notice("BITMAP data cut short"))
        elif self._mode == "line":
            tail = bytes(self._buf)
            for partial in (b"\x1b!", b"\x1b"):  # only a partial immediate command can be left
                if tail.endswith(partial):
                    tail = tail[:-len(partial)]
                    break
            if tail.strip():
                self._line(tail, events)
        self._buf.clear()
        self._mode = "line"
        return events

    def _step(self, events: list[Event], final: bool) -> bool:
        buf = self._buf
        if self._mode == "binary":
            take = min(self._need, len(buf))
            self._payload += buf[:take]
            del buf[:take]
            self._need -= take
            if self._need:
                return False
            self._mode = "line"
            x, y, wb, rows, mode = self._head
            self._add(events, DrawBitmap(x, y, wb, rows, bytes(b ^ 0xFF for b in self._payload),
                                         {0: "overwrite", 1: "or", 2: "xor"}.get(mode, "or")))
            self._payload.clear()
            return True
        if self._mode == "line":
            m = _BITMAP.match(buf)
            if m:
                x, y, wb, rows, mode = (int(g) for g in m.groups())
                if 0 < wb * rows <= MAX_BITMAP:
                    del buf[:m.end()]
                    self._mode, self._need, self._head = "binary", wb * rows, (x, y, wb, rows, mode)
                    return True
        d = _DELIM.search(buf)
        end = d.start() if d else len(buf)
        if self._mode == "line" and end > MAX_LINE:
            self._mode = "discard"
            events.append(Notice(f"line longer than {MAX_LINE} bytes skipped"))
        if self._mode == "discard":
            del buf[:end]
            end = 0
        if d is None:
            return False
        if buf[end] == ESC:
            if len(buf) < end + 3:
                if len(buf) == end + 2 and buf[end + 1] != ord("!"):
                    del buf[end]  # a stray ESC
                    return True
                return False
            if buf[end + 1] != ord("!"):
                del buf[end]
                return True
            command = chr(buf[end + 2])
            del buf[end:end + 3]
            if command in "?S":
                events.append(Query("!" + command))
            return True
        line = bytes(buf[:end])
        del buf[:end + 1]
        if self._mode == "discard":
            self._mode = "line"
        else:
            self._line(line, events)
        return True

    # -- commands ------------------------------------------------------------------------

    def _printed(self) -> tuple[Drawing, ...]:
        """The elements as a tuple; `PRINT` after `PRINT` shares one (a stream of PRINT lines
        costs a few bytes a label, not a copy of up to MAX_ELEMENTS elements each)."""
        if len(self._frozen) != len(self._elements) or (
                self._elements and self._frozen[-1] is not self._elements[-1]):
            self._frozen = tuple(self._elements)
        return self._frozen

    def _line(self, line: bytes, events: list[Event]) -> None:
        m = _COMMAND.match(line)
        if m is None:
            if line.strip():
                events.append(Notice(f"not a command: {line[:40]!r}"))
            return
        name = m.group(1).decode("ascii").upper()
        try:
            params = _split(m.group(2))
            self._command(name, params, events)
        except (*SKIPPED, OverflowError) as e:
            events.append(Notice(f"{name} skipped: {e}"))

    def _num(self, p: tuple[bool, bytes], lo: int = -MAX_DOTS, hi: int = 65535) -> int:
        v = round(float(p[1].decode("ascii")))
        if not lo <= v <= hi:
            raise BadCommandError(f"{v} out of range")
        return v

    def _size(self, p: tuple[bool, bytes]) -> int:
        text = p[1].decode("ascii").strip().lower()
        if text.endswith("mm"):
            value = float(text[:-2]) * self.dpi / 25.4
        elif text.endswith("dot"):
            value = float(text[:-3])
        else:
            value = float(text) * self.dpi
        if not 8 <= value <= MAX_DOTS:
            raise BadCommandError(f"size {text} out of range")
        return round(value)

    def _command(self, name: str, p: list[tuple[bool, bytes]], events: list[Event]) -> None:
        if name == "SIZE":
            self.width, self.height = self._size(p[0]), self._size(p[1])
        elif name == "CLS":
            self._elements = []
            self._bitmap_bytes = 0
        elif name == "PRINT":
            sets = self._num(p[0], 1, 999999)
            copies = self._num(p[1], 1, 999999) if len(p) > 1 else 1
            events.append(ParsedLabel("tspl", self.width, self.height, self.dpi, sets * copies,
                                      self._printed()))
        elif name == "TEXT":
            self._text(p, events)
        elif name == "BARCODE":
            sym = _SYMBOLOGY.get(p[2][1].decode("ascii").upper())
            if sym is None or not p[-1][0]:
                raise BadCommandError(f"unsupported barcode type {p[2][1]!r}")
            data = p[-1][1].decode("ascii")
            validate_barcode(sym, data, "data")
            self._add(events, DrawBarcode(self._num(p[0]), self._num(p[1]), sym, data,
                                          self._num(p[3], 1, MAX_DOTS), self._num(p[6], 1, 20),
                                          self._num(p[4], 0, 3) > 0, hri_height(self.dpi),
                                          self._rotation(p[5]), True))
        elif name == "QRCODE":
            ec = p[2][1].decode("ascii").upper()
            if ec not in ("L", "M", "Q", "H") or not p[-1][0]:
                raise BadCommandError("bad QRCODE parameters")
            data = p[-1][1].decode("utf-8", "replace")
            qr_matrix(data, ec)  # raises ValueError when the data does not fit any version
            self._add(events, DrawQR(self._num(p[0]), self._num(p[1]), data, ec,
                                     self._num(p[3], 1, 10), self._rotation(p[5]), True))
        elif name == "BOX":
            x, y, x2, y2 = (self._num(v) for v in p[:4])
            self._add(events, DrawBox(min(x, x2), min(y, y2), abs(x2 - x), abs(y2 - y),
                                      self._num(p[4], 1)))
        elif name == "BAR":
            self._add(events, DrawBar(self._num(p[0]), self._num(p[1]), self._num(p[2], 0),
                                      self._num(p[3], 0)))
        elif name == "BITMAP":
            raise BadCommandError(f"bitmap header malformed or data larger than {MAX_BITMAP} bytes")
        elif name not in _IGNORED:
            events.append(Notice(f"unknown command {name}"))

    def _rotation(self, p: tuple[bool, bytes]) -> int:
        r = self._num(p, 0, 270)
        if r not in (0, 90, 180, 270):
            raise BadCommandError(f"rotation {r}")
        return r

    def _text(self, p: list[tuple[bool, bytes]], events: list[Event]) -> None:
        if len(p) < 7 or not p[-1][0]:
            raise BadCommandError("TEXT needs x,y,font,rotation,x-mul,y-mul,\"content\"")
        font = p[2][1].decode("latin-1").upper()
        raw = p[-1][1]
        mul_x, mul_y = self._num(p[4], 1, 100), self._num(p[5], 1, 100)
        if font in _FONTS:
            if max(mul_x, mul_y) > 10:
                raise BadCommandError("multipliers are 1-10")
            cell_w, cell_h = _FONTS[font]
        else:  # a scalable font: multipliers are points
            cell_h, cell_w, mul_x, mul_y = round(mul_y * self.dpi / 72), 0, 1, 1
            cell_w = max(cell_h // 2, 1)
        chinese = font.startswith(("TSS", "TST"))
        text = raw.decode("big5" if font.startswith("TST") else "gb18030" if chinese
                          else "latin-1", "replace")
        glyphs = (chinese and font in self.fonts) or text.isascii()
        self._add(events, DrawText(self._num(p[0]), self._num(p[1]), text,
                                   tuple(char_cols(c) for c in text), cell_w, cell_h,
                                   self._rotation(p[3]), True, mul_x, mul_y, glyphs))
