"""Sans-I/O ESC/POS interpreter: feed bytes in any chunking, drain paper events, like a printer.

Tolerant like real firmware: nothing raises; bytes it cannot make sense of come out as `Unknown`
events and parsing resumes right after them. Commands it does not draw but whose length it knows
are skipped silently. Each `GS v 0` is its own `Raster` event (split images are not merged; the
renderer stacks them edge to edge). Text wider than the paper wraps like on a printer.
"""

from __future__ import annotations

from typing import Literal

from drivers.escpos.char_decoder import TextDecoder
from drivers.escpos.command_lengths import (
    DLE,
    ESC,
    FS,
    GS,
    MAX_RASTER_BYTES,
    MAX_RASTER_WIDTH_BYTES,
    command_length,
)
from drivers.escpos.paper_events import (
    QR,
    Align,
    Barcode,
    Beep,
    Cut,
    Drawer,
    Feed,
    Line,
    PaperEvent,
    Raster,
    Span,
    StatusRequest,
    Unknown,
)
from drivers.glyphs import CELL_H, CELL_W, scale, unpack_bits
from drivers.profiles import PrinterProfile

__all__ = ["EscposInterpreter", "decode_text"]

SMALL_COMMAND = 64  # shorter commands are always read whole, longer skipped ones are streamed
MAX_LINE_CHARS = 1024  # zero-width characters never wrap; bound the line buffer anyway
DEFAULT_SPACING = 30
_ALIGNS: dict[int, Align] = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right",
                             50: "right"}
SYMBOLOGIES = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF",
               6: "CODABAR", 65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39",
               70: "ITF", 71: "CODABAR", 72: "CODE93", 73: "CODE128", 74: "GS1-128",
               75: "GS1-DATABAR", 76: "GS1-DATABAR-TRUNCATED", 77: "GS1-DATABAR-LIMITED",
               78: "GS1-DATABAR-EXPANDED", 79: "CODE128-AUTO"}
_EC: dict[int, Literal["L", "M", "Q", "H"]] = {48: "L", 49: "M", 50: "Q", 51: "H"}
_ACTED_PAREN = {(GS, 0x6B), (FS, 0x43)}  # GS ( k (QR) and FS ( C (UTF-8) are read, not skipped


class EscposInterpreter:
    """Turn ESC/POS bytes into paper events; any chunking of the input gives the same events."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self._buf = bytearray()
        self._offset = 0  # stream offset of _buf[0]
        self._skip = 0  # bytes of a skipped command still to discard
        self._out: list[tuple[int, PaperEvent]] = []
        self._pos = 0
        self._line: list[tuple[tuple[bool, int, int, int], str, int]] = []
        self._line_dots = 0
        self._line_align: Align = "left"
        self._qr_data: bytes | None = None
        self._decoder = TextDecoder(profile)
        self._reset()

    def _reset(self) -> None:
        """ESC @: every setting back to power-on defaults; the unprinted line is discarded."""
        self._decoder.reset()
        self._align: Align = "left"
        self._bold = self._dstrike = False
        self._underline = 0
        self._wm = self._hm = 1
        self._spacing = DEFAULT_SPACING
        self._bc_height, self._bc_module, self._hri = 162, 3, 0
        self._qr_size = 3
        self._qr_ec: Literal["L", "M", "Q", "H"] = "L"
        self._qr_data = None
        self._line = []
        self._line_dots = 0

    # -- public ------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Consume bytes; complete commands become events, a partial one waits for more."""
        self._buf += data
        self._parse()

    def close(self) -> None:
        """End of stream: leftover partial bytes become `Unknown`, a pending line is printed.

        The interpreter stays usable; further bytes continue the printer's state like a new
        connection to the same printer.
        """
        end = self._pos = len(self._buf)
        if self._buf and not self._skip:
            self._emit(Unknown(bytes(self._buf)), end)
        self._skip = 0
        self._flush_line(self._spacing, end, only_if_text=True)
        self._consume()

    def events(self) -> list[PaperEvent]:
        """Drain the events produced so far."""
        return [e for _, e in self.events_at()]

    def events_at(self) -> list[tuple[int, PaperEvent]]:
        """Drain the events with the stream offset just past the bytes that produced each."""
        out, self._out = self._out, []
        return out

    @property
    def position(self) -> int:
        """Bytes consumed so far (parsed into events or discarded)."""
        return self._offset

    # -- parsing -----------------------------------------------------------------------------
    def _consume(self) -> None:
        del self._buf[:self._pos]
        self._offset += self._pos
        self._pos = 0

    def _emit(self, event: PaperEvent, end: int) -> None:
        """Queue `event`, produced by the bytes before buffer index `end`."""
        self._out.append((self._offset + end, event))

    def _parse(self) -> None:
        buf = self._buf
        while self._pos < len(buf):
            if self._skip:
                take = min(self._skip, len(buf) - self._pos)
                self._skip -= take
                self._pos += take
                continue
            n = self._step(buf, self._pos)
            if n == 0:
                break
            self._pos += n
        self._consume()

    def _step(self, buf: bytearray, i: int) -> int:
        """Handle the command or character at i; return bytes used, 0 when more are needed."""
        b = buf[i]
        if b in (ESC, GS, FS, DLE):
            return self._command(buf, i)
        if b == 0x0A:
            self._flush_line(self._spacing, i + 1)
            return 1
        if b == 0x09:  # HT: default tab stops every 8 columns
            for _ in range(8 - (sum(c for _, _, c in self._line) % 8)):
                self._put(" ", 1, i)
            return 1
        if b in (0x0D, 0x00, 0x0C, 0x18):  # CR, NUL padding, FF and CAN (page mode only)
            return 1
        if b < 0x20 or b == 0x7F:
            self._unknown(buf, i, 1)
            return 1
        got = self._decoder.decode(buf, i)
        if got is None:
            return 0
        used, ch, cols = got
        self._put(ch, cols, i)
        return used

    def _unknown(self, buf: bytearray, i: int, n: int) -> None:
        self._emit(Unknown(bytes(buf[i:i + n])), i + n)

    def _command(self, buf: bytearray, i: int) -> int:
        n = command_length(buf, i)
        if n < 0:
            self._unknown(buf, i, -n)
            return -n
        if n == 0:
            return 0
        kind, c, avail = buf[i], buf[i + 1], len(buf) - i
        if kind == GS and c == 0x76 and ((buf[i + 4] | buf[i + 5] << 8) > MAX_RASTER_WIDTH_BYTES
                                         or n - 8 > MAX_RASTER_BYTES
                                         or buf[i + 3] not in (0, 1, 2, 3, 48, 49, 50, 51)):
            self._unknown(buf, i, 8)  # a garbage header: never allocate what it claims
            return 8
        if n <= avail:
            self._act(buf, i, n)
            return n
        if n <= SMALL_COMMAND or (kind, c) in ((GS, 0x76), (GS, 0x6B)) or (
                c == 0x28 and (kind, buf[i + 2]) in _ACTED_PAREN):
            return 0  # wait for the whole command (bounded: 64 KiB at most, rasters above)
        self._skip = n - avail  # long commands only skipped are discarded as they stream in
        return avail

    def _act(self, buf: bytearray, i: int, n: int) -> None:
        """Carry out a complete n-byte command at buf[i]."""
        kind, c, end = buf[i], buf[i + 1], i + n
        p = bytes(buf[i + 2:end])
        if kind == ESC:
            self._esc(c, p, end)
        elif kind == GS:
            self._gs(c, p, end)
        elif kind == FS:
            if c == 0x26:
                self._decoder.kanji_on()
            elif c == 0x2E:
                self._decoder.kanji_off()
            elif c == 0x28 and p[0] == 0x43 and p[3:4] in (b"\x00", b"0") and len(p) == 5:
                # FS ( C pL pH 48 m: m 1/49 single byte, 2/50 UTF-8
                if p[4] in (2, 0x32):
                    self._decoder.utf8 = True
                elif p[4] in (1, 0x31):
                    self._decoder.utf8 = False
        elif c == 0x04 and 1 <= p[0] <= 4:
            self._emit(StatusRequest(p[0]), end)
        elif c == 0x14 and p[0] == 1:  # DLE DC4 1 m t: real-time drawer pulse, t × 100 ms
            self._emit(Drawer(2 if p[1] in (0, 48) else 5, p[2] * 100, p[2] * 100), end)

    def _esc(self, c: int, p: bytes, end: int) -> None:
        if c == 0x40:
            self._reset()
        elif c == 0x32:
            self._spacing = DEFAULT_SPACING
        elif c == 0x33:
            self._spacing = p[0]
        elif c == 0x61:
            self._align = _ALIGNS.get(p[0], self._align)
        elif c == 0x45:
            self._bold = bool(p[0] & 1)
        elif c == 0x47:
            self._dstrike = bool(p[0] & 1)
        elif c == 0x2D:
            self._underline = {0: 0, 48: 0, 1: 1, 49: 1, 2: 2, 50: 2}.get(p[0], self._underline)
        elif c == 0x21:  # ESC ! n: print mode bits (3 bold, 4 double height, 5 double width, 7 ul)
            self._bold = bool(p[0] & 0x08)
            self._hm = 2 if p[0] & 0x10 else 1
            self._wm = 2 if p[0] & 0x20 else 1
            self._underline = 1 if p[0] & 0x80 else 0
        elif c == 0x74:
            self._decoder.select_code_page(p[0])
        elif c == 0x64:  # ESC d n: print and feed n lines
            if p[0] or self._line:
                self._flush_line(self._spacing, end)
            if p[0] > 1:
                self._emit(Feed((p[0] - 1) * self._spacing), end)
        elif c == 0x4A:  # ESC J n: print and feed n dots
            if self._line:
                self._flush_line(p[0], end)
            elif p[0]:
                self._emit(Feed(p[0]), end)
        elif c == 0x70:  # ESC p m t1 t2: drawer pulse, t × 2 ms
            self._emit(Drawer(2 if p[0] in (0, 48) else 5, p[1] * 2, p[2] * 2), end)
        elif c == 0x42:  # ESC B n t: buzzer n times, t × 100 ms
            self._emit(Beep(p[0], p[1] * 100), end)
        elif c in (0x69, 0x6D):
            self._print_then(Cut(partial=True), end)

    def _gs(self, c: int, p: bytes, end: int) -> None:
        if c == 0x21 and p[0] & 0x88 == 0:  # GS ! n: width-1 in bits 4-6, height-1 in bits 0-2
            self._wm, self._hm = (p[0] >> 4) + 1, (p[0] & 7) + 1
        elif c == 0x68 and p[0]:
            self._bc_height = p[0]
        elif c == 0x77 and 1 <= p[0] <= 6:
            self._bc_module = p[0]
        elif c == 0x48:
            self._hri = p[0] & 3
        elif c == 0x56:  # GS V m [n]
            if len(p) == 2 and p[1]:
                self._print_then(Feed(p[1]), end)
            self._print_then(Cut(partial=p[0] in (1, 49, 66, 98, 104)), end)
        elif c == 0x76:  # GS v 0 m xL xH yL yH d…
            m, x, y = p[1], p[2] | p[3] << 8, p[4] | p[5] << 8
            if x and y:
                img = unpack_bits(x, y, p[6:])
                wm, hm = 2 if m & 1 else 1, 2 if m & 2 else 1
                keep = -(-self.profile.paper_dots // wm)  # dots past the paper never print
                if img.width > keep:
                    img = img.crop((0, 0, keep, img.height))
                img = scale(img, wm, hm)
                self._print_then(Raster(img, self._align), end)
        elif c == 0x6B:  # GS k m d… NUL  |  GS k m n d1…dn
            m = p[0]
            data = p[1:-1] if m <= 6 else p[2:]
            name = SYMBOLOGIES[m]
            text = _code128_text(data) if name == "CODE128" else data.decode("latin-1")
            self._print_then(Barcode(name, text, self._bc_height, self._bc_module, self._hri,
                                     self._align), end)
        elif c == 0x28 and p[0] == 0x6B and len(p) >= 5 and p[3] == 0x31:
            self._qr(end, p[4], p[5:])

    def _qr(self, end: int, fn: int, args: bytes) -> None:
        """GS ( k … cn=49 (QR): fn 67 module size, 69 error level, 80 store, 81 print."""
        if fn == 0x43 and args and 1 <= args[0] <= 16:
            self._qr_size = args[0]
        elif fn == 0x45 and args and args[0] in _EC:
            self._qr_ec = _EC[args[0]]
        elif fn == 0x50 and args and args[0] == 0x30:
            self._qr_data = args[1:]
        elif fn == 0x51 and self._qr_data:
            data = self._qr_data.decode("utf-8", "surrogateescape")
            self._print_then(QR(data, self._qr_size, self._qr_ec, self._align), end)

    # -- the line buffer ---------------------------------------------------------------------
    def _put(self, ch: str, cols: int, at: int) -> None:
        dots = cols * CELL_W * self._wm
        if self._line and (self._line_dots + dots > self.profile.paper_dots
                           or len(self._line) >= MAX_LINE_CHARS):
            self._flush_line(self._spacing, at)
        if not self._line:
            self._line_align = self._align
        style = (self._bold or self._dstrike, self._underline, self._wm, self._hm)
        self._line.append((style, ch, cols))
        self._line_dots += dots

    def _print_then(self, event: PaperEvent, end: int) -> None:
        """Print the pending line (if any), then emit `event`."""
        self._flush_line(self._spacing, end, only_if_text=True)
        self._emit(event, end)

    def _flush_line(self, spacing: int, end: int, only_if_text: bool = False) -> None:
        if only_if_text and not self._line:
            return
        spans: list[Span] = []
        run: list[tuple[tuple[bool, int, int, int], str, int]] = []
        for item in [*self._line, None]:
            if run and (item is None or item[0] != run[0][0]):
                (bold, ul, wm, hm) = run[0][0]
                widths = tuple(c for _, _, c in run)
                spans.append(Span("".join(ch for _, ch, _ in run), bold, ul, wm, hm,
                                  sum(widths), widths))
                run = []
            if item is not None:
                run.append(item)
        hm = max((s.height_mult for s in spans), default=1)
        align = self._line_align if spans else self._align
        self._emit(Line(tuple(spans), align, hm, max(spacing, CELL_H * hm)), end)
        self._line = []
        self._line_dots = 0


def _code128_text(data: bytes) -> str:
    """CODE128 data as printed: `{A`/`{B`/`{C` select code sets (in C each byte is two digits)."""
    out: list[str] = []
    code_c = False
    k = 0
    while k < len(data):
        if data[k] == 0x7B and k + 1 < len(data):
            sel = data[k + 1]
            if sel == 0x7B:
                out.append("{")
            elif sel in b"ABC":
                code_c = sel == 0x43
            k += 2
            continue
        out.append(f"{data[k]:02d}" if code_c and data[k] < 100 else chr(data[k]))
        k += 1
    return "".join(out)


def decode_text(data: bytes, profile: PrinterProfile) -> list[str]:
    """The text of every printed line that has characters (blank lines are left out)."""
    interp = EscposInterpreter(profile)
    interp.feed(data)
    interp.close()
    return [e.text for e in interp.events() if isinstance(e, Line) and e.spans]
