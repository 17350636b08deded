"""ESC/POS real-time status (`DLE EOT 1..4`): the query bytes, a sans-I/O reader, and the parser.

No reply is a value, not an error: a missing answer to n=1 means OFFLINE, and so does silence to
all four — a printer with its cover open may not answer at all, and from the host's side that is
indistinguishable from one that is switched off, so the queue holds jobs either way. Only a byte
that cannot be a status reply raises `InvalidReply`.
"""

from __future__ import annotations

from collections.abc import Sequence

from drivers import DriverError
from drivers.printer_state import OFFLINE, PrinterState, PrinterStatus

__all__ = ["QUERIES", "STATUS_QUERY", "InvalidReply", "StatusReader", "is_status_byte",
           "parse_status"]

QUERIES = (1, 2, 3, 4)
STATUS_QUERY = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"

# Condition names reported in PrinterStatus.detail, by (query n, bit).
_BITS: tuple[tuple[int, int, str], ...] = (
    (1, 3, "offline"),
    (2, 2, "cover_open"),
    (2, 3, "feed_button"),
    (2, 5, "paper_end_stop"),
    (2, 6, "error"),
    (3, 2, "recoverable_error"),
    (3, 3, "cutter_error"),
    (3, 5, "unrecoverable_error"),
    (3, 6, "auto_recoverable_error"),
)
_ERRORS = ("error", "recoverable_error", "cutter_error", "unrecoverable_error",
           "auto_recoverable_error")


class InvalidReply(DriverError):
    """A byte that is not a valid answer to `DLE EOT n` (bits 0 and 7 clear, 1 and 4 set)."""

    def __init__(self, query: int, value: int) -> None:
        super().__init__(f"invalid reply 0x{value:02x} to DLE EOT {query}")
        self.query = query
        self.value = value


def is_status_byte(value: int) -> bool:
    """True when `value` has the fixed bits of every DLE EOT reply: 0 and 7 clear, 1 and 4 set."""
    return value & 0x93 == 0x12


def parse_status(replies: Sequence[int | None]) -> PrinterStatus:
    """The printer's status from the replies to DLE EOT 1, 2, 3, 4 (None: no reply in time).

    `state` follows offline > cover_open > paper_out > error > paper_low > ok, where "offline"
    is no reply to n=1, or the offline bit with no cause among the other replies (a printer with
    its cover open or out of paper also sets the offline bit; the cause is the useful state).
    `detail` lists every condition seen; `drawer_open` is pin 3 high (the usual wiring of a
    drawer's open switch), None without a reply to n=1.
    """
    if len(replies) != len(QUERIES):
        raise ValueError("parse_status takes the four replies to DLE EOT 1..4")
    for n, value in zip(QUERIES, replies, strict=True):
        if value is not None and not is_status_byte(value):
            raise InvalidReply(n, value)
    r1, r4 = replies[0], replies[3]
    if r1 is None:
        return OFFLINE
    got = dict(zip(QUERIES, replies, strict=True))
    detail = [name for n, bit, name in _BITS if (got[n] or 0) >> bit & 1]
    if r4 is not None and r4 & 0x60:
        detail.append("paper_out")
    elif r4 is not None and r4 & 0x0C:
        detail.append("paper_low")
    detail += [f"no reply to DLE EOT {n}" for n in QUERIES[1:] if got[n] is None]
    return PrinterStatus(_state(set(detail)), tuple(detail), bool(r1 & 0x04))


def _state(seen: set[str]) -> PrinterState:
    paper_out = bool(seen & {"paper_out", "paper_end_stop"})
    errors = bool(seen & set(_ERRORS))
    if "offline" in seen and not ("cover_open" in seen or paper_out or errors):
        return PrinterState.OFFLINE
    if "cover_open" in seen:
        return PrinterState.COVER_OPEN
    if paper_out:
        return PrinterState.PAPER_OUT
    if errors:
        return PrinterState.ERROR
    if "paper_low" in seen:
        return PrinterState.PAPER_LOW
    return PrinterState.OK


class StatusReader:
    """Collects the one-byte replies to `STATUS_QUERY` in order, from chunks of any size.

    Feed what the transport read; `complete` turns True after four replies. When the poll
    interval runs out, `replies()` pads the missing answers with None and `status()` parses them.
    Bytes after the fourth reply are counted in `extra` and otherwise ignored.
    """

    def __init__(self) -> None:
        self._values: list[int] = []
        self.extra = 0

    def feed(self, data: bytes) -> None:
        """Take reply bytes; InvalidReply names the query a bad byte was answering."""
        for value in data:
            if len(self._values) == len(QUERIES):
                self.extra += 1
                continue
            if not is_status_byte(value):
                raise InvalidReply(QUERIES[len(self._values)], value)
            self._values.append(value)

    @property
    def complete(self) -> bool:
        """All four replies have arrived."""
        return len(self._values) == len(QUERIES)

    def replies(self) -> tuple[int | None, int | None, int | None, int | None]:
        """The replies so far, None for those not (yet) received."""
        v: list[int | None] = [*self._values, None, None, None, None]
        return v[0], v[1], v[2], v[3]

    def status(self) -> PrinterStatus:
        """parse_status over the replies so far."""
        return parse_status(self.replies())
