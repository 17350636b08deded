"""Streaming ZPL II interpreter: format bytes in, drawn labels and host queries out (pure).

Commands start at `^` or `~` and run to the next one, so a token is complete when the next prefix
arrives; parameterless commands (`^XA`, `^XZ`, `^FS`, `~HS`, `~HI`, `~JA`) act at once. Tolerant and
bounded: unknown or malformed commands are skipped with a Notice, oversized ones dropped, nothing
raised for bad input.
"""

from __future__ import annotations

import re

from drivers.escpos.document import validate_barcode
from drivers.label.command_reader import MAX_LABEL_BITMAP, SKIPPED, BadCommandError, CommandReader
from drivers.label.drawing import (
    DrawBarcode,
    DrawBitmap,
    DrawBox,
    DrawQR,
    DrawText,
    Event,
    Notice,
    ParsedLabel,
    Query,
)
from drivers.label.graphic_field import GraphicFieldError, decode_field
from drivers.label.layout import char_cols, hri_height
from drivers.label.symbols import qr_matrix

__all__ = ["MAX_GRAPHIC", "MAX_LABEL_BITMAP", "MAX_TOKEN", "ZplReader"]

MAX_TOKEN = 4_000_000
MAX_GRAPHIC = 2_000_000
MAX_FONT = 1500
MAX_DOTS = 32000
MAX_SIDE = 6000  # label and element sizes we draw; beyond this a command is skipped
FIXED = {b"^XA", b"^XZ", b"^FS", b"~HS", b"~HI", b"~JA"}
_PREFIX = re.compile(rb"[\^~]")
_ORIENT = {"N": 0, "R": 90, "I": 180, "B": 270}
_BARCODES = {"BC": "CODE128", "BE": "EAN13", "B3": "CODE39"}
_IGNORED = {"PO", "MN", "MM", "MD", "PR", "LS", "JU", "MT", "FX", "FR", "LR", "CC", "PM",
            "JM", "MU", "SZ", "TO", "FW", "FB", "FP"}


def _ints(params: str, count: int, defaults: tuple[int, ...] = ()) -> list[int]:
    """The first `count` comma-separated integers, defaults for empty or missing ones."""
    parts = params.split(",")
    out = []
    for i in range(count):
        text = parts[i].strip() if i < len(parts) else ""
        if text:
            v = int(text)
            if not -MAX_DOTS <= v <= MAX_DOTS:
                raise BadCommandError(f"{v} out of range")
            out.append(v)
        elif i < len(defaults):
            out.append(defaults[i])
        else:
            raise BadCommandError(f"parameter {i + 1} missing")
    return out


class ZplReader(CommandReader):
    """Feed ZPL bytes in any chunks; get the same events whatever the chunking."""

    def __init__(self, dpi: int = 203, fonts: tuple[str, ...] = (), width: int = 832,
                 height: int = 1218) -> None:
        super().__init__(dpi, fonts)
        self.default_size = (width, height)
        self.font_map: dict[str, str] = {}
        self._in_format = False
        self._new_format()

    def _new_format(self) -> None:
        self.width, self.height = self.default_size
        self._home = (0, 0)
        self._copies = 1
        self._utf8 = False
        self._default_font = ("0", 18, 0)
        self._by = (2, 10)
        self._elements = []
        self._bitmap_bytes = 0
        self._new_field()

    def _new_field(self) -> None:
        self._origin = self._home
        self._font: tuple[str, int, int, int] | None = None
        self._hex: str | None = None
        self._symbol: tuple[str, str] | None = None
        self._data: bytes | None = None

    # -- bytes ---------------------------------------------------------------------------

    def finish(self) -> list[Event]:
        """The host is done: interpret the last command; an open format stays open."""
        events: list[Event] = []
        while self._step(events, final=True):
            pass
        self._buf.clear()
        return events

    def _step(self, events: list[Event], final: bool) -> bool:
        buf = self._buf
        m = _PREFIX.search(buf)
        if m is None:
            buf.clear()
            return False
        del buf[:m.start()]  # bytes outside commands (and the rest of a dropped one)
        if len(buf) < 3 and not final:
            return False
        if bytes(buf[:3]).upper() in FIXED:
            token = bytes(buf[:3])
            del buf[:3]
            self._token(token, events)
            return True
        nxt = _PREFIX.search(buf, 1)
        end = nxt.start() if nxt else len(buf)
        if end > MAX_TOKEN:
            events.append(Notice(f"command longer than {MAX_TOKEN} bytes skipped"))
            del buf[:end]
            return nxt is not None
        if nxt is None and not final:
            return False
        token = bytes(buf[:end])
        del buf[:end]
        self._token(token, events)
        return bool(buf)

    # -- commands ------------------------------------------------------------------------

    def _token(self, token: bytes, events: list[Event]) -> None:
        prefix = chr(token[0])
        name = token[1:3].decode("latin-1").upper()
        if prefix == "~":
            if name in ("HS", "HI"):
                events.append(Query("~" + name))
            elif name == "JA":
                self._in_format = False
            return
        if name == "XA":
            if self._in_format:
                events.append(Notice("^XA inside a format: the open format is dropped"))
            self._in_format = True
            self._new_format()
            return
        if not self._in_format:
            return
        try:
            self._command(name, token[1:], events)
        except (*SKIPPED, GraphicFieldError) as e:
            events.append(Notice(f"^{name} skipped: {e}"))

    def _command(self, name: str, raw: bytes, events: list[Event]) -> None:
        params = raw[2:].decode("latin-1").strip()
        if name == "XZ":
            self._in_format = False
            events.append(ParsedLabel("zpl", self.width, self.height, self.dpi, self._copies,
                                      tuple(self._elements)))
        elif name[0] == "A":
            orient, _, rest = params.partition(",")
            h, w = _ints(rest, 2, (self._default_font[1], 0))
            if max(h, w) > MAX_FONT:
                raise BadCommandError(f"font larger than {MAX_FONT} dots")
            self._font = (raw[1:2].decode("latin-1").upper(),
                          _ORIENT.get(orient.strip().upper()[:1] or "N", 0), max(h, 1), w)
        elif name in ("FO", "FT"):
            x, y = _ints(params, 2, (0, 0))
            self._origin = (x + self._home[0], y + self._home[1])
        elif name == "FH":
            self._hex = params[:1] or "_"
        elif name == "FD":
            self._data = raw[2:]
        elif name == "FS":
            self._field(events)
            self._new_field()
        elif name in ("BC", "BE", "B3", "BQ"):
            self._symbol = (name, params)
        elif name == "BY":
            parts = params.split(",")
            module = _ints(parts[0], 1, (self._by[0],))[0]
            height = _ints(parts[2], 1)[0] if len(parts) > 2 and parts[2].strip() else self._by[1]
            if not 1 <= module <= 10 or not 1 <= height <= MAX_SIDE:
                raise BadCommandError("^BY module is 1-10 dots, height 1-6000")
            self._by = (module, height)
        elif name == "GB":
            w, h, t = _ints(params, 3, (0, 0, 1))
            t = max(t, 1)
            self._add(events, DrawBox(*self._origin, max(w, t), max(h, t), t))
        elif name == "GF":
            self._graphic(params, events)
        elif name in ("PW", "LL"):
            v = _ints(params, 1)[0]
            if not 1 <= v <= MAX_SIDE:
                raise BadCommandError(f"{v} out of range")
            if name == "PW":
                self.width = v
            else:
                self.height = v
        elif name == "LH":
            hx, hy = _ints(params, 2, (0, 0))
            self._home = (hx, hy)
        elif name == "PQ":
            self._copies = max(_ints(params, 1, (1,))[0], 1)
        elif name == "CI":
            self._utf8 = _ints(params, 1, (0,))[0] == 28
        elif name == "CF":
            font, _, rest = params.partition(",")
            h, w = _ints(rest, 2, (self._default_font[1], 0))
            if max(h, w) > MAX_FONT:
                raise BadCommandError(f"font larger than {MAX_FONT} dots")
            self._default_font = ((font[:1] or "0").upper(), max(h, 1), w)
        elif name == "CW":
            alias, _, font = params.partition(",")
            self.font_map[alias[:1].upper()] = font.strip().upper()
        elif name not in _IGNORED:
            events.append(Notice(f"unknown command ^{name}"))

    def _graphic(self, params: str, events: list[Event]) -> None:
        parts = params.split(",", 4)
        if len(parts) < 5 or parts[0].strip().upper() != "A":
            raise BadCommandError("only ^GFA (ASCII) graphic fields are supported")
        total, width_bytes = _ints(parts[2], 1)[0], _ints(parts[3], 1)[0]
        if not 0 < width_bytes <= total <= MAX_GRAPHIC:
            raise BadCommandError("graphic field size out of range")
        if self._bitmap_bytes + total > MAX_LABEL_BITMAP:  # refused before decoding a byte
            raise BadCommandError(f"bitmaps of more than {MAX_LABEL_BITMAP} bytes on a label")
        rows = total // width_bytes
        data = decode_field(parts[4].strip(), width_bytes, rows * width_bytes)
        self._add(events, DrawBitmap(*self._origin, width_bytes, rows, data, "or"))

    def _text_of(self, data: bytes) -> str:
        if self._hex:
            ind = re.escape(self._hex.encode("latin-1"))
            data = re.sub(ind + rb"([0-9A-Fa-f]{2})", lambda m: bytes.fromhex(m.group(1).decode()),
                          data)
        return data.decode("utf-8" if self._utf8 else "latin-1", "replace")

    def _field(self, events: list[Event]) -> None:
        if self._data is None:
            return
        text = self._text_of(self._data)
        x, y = self._origin
        symbol = self._symbol
        if symbol is not None and symbol[0] in _BARCODES:
            sym = _BARCODES[symbol[0]]
            parts = [s.strip().upper() for s in symbol[1].split(",")]
            parts += [""] * 5
            h_at, f_at = (2, 3) if sym == "CODE39" else (1, 2)
            height = int(parts[h_at]) if parts[h_at] else self._by[1]
            if not 1 <= height <= MAX_SIDE:
                raise BadCommandError(f"barcode height {height}")
            validate_barcode(sym, text, "data")
            self._add(events, DrawBarcode(x, y, sym, text, height, self._by[0],
                                          parts[f_at] != "N", hri_height(self.dpi),
                                          _ORIENT.get(parts[0][:1] or "N", 0)))
            return
        if symbol is not None:  # ^BQ: "<level><mode>,<data>"
            parts = [s.strip().upper() for s in symbol[1].split(",")] + [""] * 3
            cell = int(parts[2]) if parts[2] else 2
            ec = text[:1].upper() if text[:1].upper() in ("L", "M", "Q", "H") else "Q"
            data = text.split(",", 1)[1] if "," in text else text
            qr_matrix(data, ec)
            self._add(events, DrawQR(x, y, data, ec, min(max(cell, 1), 10)))
            return
        font, rotation, h, w = self._font or (self._default_font[0], 0, *self._default_font[1:])
        w = w or h
        mapped = self.font_map.get(font, "")
        glyphs = (bool(mapped) and mapped in self.fonts) or text.isascii()
        self._add(events, DrawText(x, y, text, tuple(char_cols(c) for c in text),
                                   max(w // 2, 1), h, rotation, False, 1, 1, glyphs))
