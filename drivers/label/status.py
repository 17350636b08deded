"""Label printer status: the query bytes, and pure parsers of TSPL / ZPL replies into PrinterStatus.

TSPL `<ESC>!?` answers one byte, even during errors; `<ESC>!S` (TSC firmware V6.29 EZ and later)
answers STX, four status bytes, ETX, CR, LF; ZPL `~HS` answers three STX…ETX CR LF strings.
A malformed reply raises StatusReplyError and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from drivers import DriverError
from drivers.printer_state import PrinterState, PrinterStatus

__all__ = [
    "QUERIES", "TSPL_EXTENDED_QUERY", "TSPL_STATUS_QUERY", "ZPL_HOST_STATUS_QUERY",
    "StatusReader", "StatusReplyError", "parse_tspl_extended_status", "parse_tspl_status",
    "parse_zpl_host_status",
]

TSPL_STATUS_QUERY = b"\x1b!?"
TSPL_EXTENDED_QUERY = b"\x1b!S"
ZPL_HOST_STATUS_QUERY = b"~HS"
QUERIES = {"tspl": TSPL_STATUS_QUERY, "zpl": ZPL_HOST_STATUS_QUERY}
"""The status query every printer of a language answers, by profile language."""

STX, ETX = 0x02, 0x03
MAX_FIELD = 200  # longest ~HS string content we accept; real ones are under 60 bytes

S = PrinterState
# Most important first: the condition a person must fix first (a paper-out Zebra also pauses).
_PRIORITY = (S.COVER_OPEN, S.JAM, S.PAPER_OUT, S.RIBBON_OUT, S.ERROR, S.PAUSED, S.PAPER_LOW)


class StatusReplyError(DriverError):
    """A status reply is not what the protocol defines."""


def _status(conditions: Iterable[tuple[PrinterState, str]]) -> PrinterStatus:
    seen = list(conditions)
    states = {s for s, _ in seen}
    detail = tuple(d for _, d in seen)
    for state in _PRIORITY:
        if state in states:
            return PrinterStatus(state, detail)
    return PrinterStatus(S.OK, detail)


# TSPL `<ESC>!?` bits (TSPL/TSPL2 programming manual, "<ESC>!?").
TSPL_BITS = (
    (0x01, S.COVER_OPEN, "head open"),
    (0x02, S.JAM, "paper jam"),
    (0x04, S.PAPER_OUT, "paper out"),
    (0x08, S.RIBBON_OUT, "ribbon out"),
    (0x10, S.PAUSED, "paused"),
    (0x20, S.OK, "printing"),
    (0x40, S.COVER_OPEN, "cover open"),
    (0x80, S.ERROR, "overheat"),
)


def parse_tspl_status(reply: bytes) -> PrinterStatus:
    """Parse the one-byte answer to `<ESC>!?`."""
    if len(reply) != 1:
        raise StatusReplyError(f"<ESC>!? answers one byte, got {len(reply)}")
    return _status((s, d) for bit, s, d in TSPL_BITS if reply[0] & bit)


# `<ESC>!S` (TSPL2 manual, "<ESC>!S"): every status byte has bit 6 set.
_EXT_MESSAGE = {
    0x60: (S.PAUSED, "paused"), 0x42: (S.OK, "backing label"), 0x43: (S.OK, "cutting"),
    0x45: (S.ERROR, "printer error"), 0x46: (S.OK, "form feed"),
    0x4B: (S.PAUSED, "waiting for the print key"), 0x4C: (S.OK, "waiting to take label"),
    0x50: (S.OK, "printing"), 0x57: (S.OK, "imaging"),
}
_EXT_WARNING = ((0x01, S.PAPER_LOW, "paper low"), (0x02, S.OK, "ribbon low"),
                (0x08, S.OK, "buffer full"))
_EXT_ERROR = ((0x01, S.ERROR, "overheat"), (0x02, S.ERROR, "motor overheat"),
              (0x04, S.ERROR, "head error"), (0x08, S.JAM, "cutter jam"),
              (0x10, S.ERROR, "out of memory"))
_EXT_MEDIA = ((0x01, S.PAPER_OUT, "paper out"), (0x02, S.JAM, "paper jam"),
              (0x04, S.RIBBON_OUT, "ribbon out"), (0x08, S.JAM, "ribbon jam"),
              (0x20, S.COVER_OPEN, "head open"))


def parse_tspl_extended_status(reply: bytes) -> PrinterStatus:
    """Parse the answer to `<ESC>!S`: STX, message, warning, error, media bytes, ETX, CR, LF."""
    if len(reply) != 8 or reply[0] != STX or reply[5] != ETX or reply[6:] != b"\r\n":
        raise StatusReplyError("<ESC>!S answers STX + 4 status bytes + ETX CR LF")
    body = reply[1:5]
    if any(b & 0xC0 != 0x40 for b in body):
        raise StatusReplyError(f"<ESC>!S status bytes have bit 6 set, got {body.hex()}")
    seen: list[tuple[PrinterState, str]] = []
    if body[0] != 0x40:
        seen.append(_EXT_MESSAGE.get(body[0], (S.OK, f"message {chr(body[0])}")))
    for byte, table in ((body[1], _EXT_WARNING), (body[2], _EXT_ERROR), (body[3], _EXT_MEDIA)):
        seen.extend((s, d) for bit, s, d in table if byte & bit)
    return _status(seen)


_FRAME = re.compile(rb"\x02([^\x02\x03]*)\x03\r\n")


def _flags(fields: list[bytes], which: dict[int, str], name: str) -> dict[str, bool]:
    out = {}
    for i, label in which.items():
        if i >= len(fields) or fields[i].strip() not in (b"0", b"1"):
            raise StatusReplyError(f"~HS {name} field {i + 1} ({label}) must be 0 or 1")
        out[label] = fields[i].strip() == b"1"
    return out


def parse_zpl_host_status(reply: bytes) -> PrinterStatus:
    """Parse the answer to `~HS`: exactly three STX…ETX CR LF strings (ZPL II manual, ~HS)."""
    frames = []
    pos = 0
    while pos < len(reply):
        m = _FRAME.match(reply, pos)
        if m is None or len(m.group(1)) > MAX_FIELD:
            raise StatusReplyError("~HS answers three STX…ETX CR LF strings")
        frames.append(m.group(1).split(b","))
        pos = m.end()
    if len(frames) != 3:
        raise StatusReplyError(f"~HS answers three strings, got {len(frames)}")
    one = _flags(frames[0], {1: "paper out", 2: "paused", 5: "buffer full", 9: "corrupt RAM",
                             10: "under temperature", 11: "over temperature"}, "string 1")
    two = _flags(frames[1], {2: "head open", 3: "ribbon out"}, "string 2")
    states = {"paper out": S.PAPER_OUT, "paused": S.PAUSED, "buffer full": S.OK,
              "corrupt RAM": S.ERROR, "under temperature": S.ERROR,
              "over temperature": S.ERROR, "head open": S.COVER_OPEN,
              "ribbon out": S.RIBBON_OUT}
    seen = [(states[k], k) for k, on in (*one.items(), *two.items()) if on]
    if len(frames[1]) > 8:
        remaining = frames[1][8].strip()
        if not remaining.isdigit():
            raise StatusReplyError("~HS string 2 field 9 (labels remaining) must be digits")
        if int(remaining):
            seen.append((S.OK, f"{int(remaining)} labels remaining"))
    return _status(seen)


class StatusReader:
    """Split a byte stream of replies to one query kind into statuses; any chunking, same result."""

    def __init__(self, query: bytes) -> None:
        if query not in (TSPL_STATUS_QUERY, TSPL_EXTENDED_QUERY, ZPL_HOST_STATUS_QUERY):
            raise ValueError(f"unknown status query {query!r}")
        self.query = query
        self._buf = bytearray()
        self._frames: list[bytes] = []

    def feed(self, data: bytes) -> list[PrinterStatus]:
        """Consume reply bytes; return the statuses completed by them."""
        if self.query == TSPL_STATUS_QUERY:
            return [parse_tspl_status(bytes([b])) for b in data]
        self._buf += data
        out: list[PrinterStatus] = []
        while True:
            start = self._buf.find(STX)
            if start < 0:
                self._buf.clear()  # noise between replies
                return out
            del self._buf[:start]
            if self.query == TSPL_EXTENDED_QUERY:
                if len(self._buf) < 8:
                    return out
                reply = bytes(self._buf[:8])
                del self._buf[:8]
                out.append(parse_tspl_extended_status(reply))
                continue
            end = self._buf.find(b"\x03\r\n")
            if end > MAX_FIELD + 1 or (end < 0 and len(self._buf) > MAX_FIELD + 3):
                self._buf.clear()
                self._frames.clear()
                raise StatusReplyError("~HS string without ETX CR LF")
            if end < 0:
                return out
            self._frames.append(bytes(self._buf[:end + 3]))
            del self._buf[:end + 3]
            if len(self._frames) == 3:
                reply = b"".join(self._frames)
                self._frames.clear()
                out.append(parse_zpl_host_status(reply))
