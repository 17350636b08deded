"""Asking a printer its status over an open transport, in the printer's language (blocking:
the printer's device thread calls it, and `storelink doctor`)."""

from __future__ import annotations

import time

from drivers.escpos.status import QUERIES, STATUS_QUERY, InvalidReply, StatusReader
from drivers.label import QUERIES as LABEL_QUERIES
from drivers.label import StatusReader as LabelStatusReader
from drivers.label import StatusReplyError
from drivers.printer_state import PrinterState, PrinterStatus, silence
from drivers.transports.base import Transport, drain, unsent_bytes


def read_status(t: Transport, first_timeout: float, timeout: float,
                language: str = "escpos", busy_since: int | None = None) -> PrinterStatus:
    """Ask the printer's status in its `language` (a profile's) and parse the reply.

    ESC/POS: DLE EOT 1..4 in one write, four one-byte replies; TSPL `<ESC>!?`, ZPL `~HS`
    (read_label_status). The first reply may take `first_timeout`, each later one `timeout`.
    Silence is `busy` while the printer is still taking bytes written before (the query waits
    behind them), else offline (or, on a receipt printer, cover open, which looks the same from
    here): drivers.printer_state.silence. `busy_since`: the bytes that waited unsent when the
    printer last answered (after a job, its tail), so a printer pausing to print what it took
    stays busy. Input left over from an earlier query is drained first so a late answer is not
    taken for this one.
    """
    label_query = LABEL_QUERIES.get(language)
    if label_query is not None:
        return read_label_status(t, label_query, first_timeout, timeout, busy_since)
    drain(t)
    t.write(STATUS_QUERY)
    unsent = _reference(unsent_bytes(t), busy_since, STATUS_QUERY)
    reader = StatusReader()
    deadline = time.monotonic() + first_timeout
    try:
        while not reader.complete:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            data = t.read(len(QUERIES), remaining)
            if data:
                reader.feed(data)
                deadline = time.monotonic() + timeout
        if reader.replies()[0] is None:
            return silence(unsent, unsent_bytes(t))
        return reader.status()
    except InvalidReply as e:
        return PrinterStatus(PrinterState.ERROR, (f"invalid status reply: {e}",))


def _reference(at_query: int | None, busy_since: int | None, query: bytes) -> int | None:
    """What the unsent bytes are compared with when no reply comes (see read_status)."""
    if at_query is None or busy_since is None:
        return at_query
    return max(at_query, busy_since + len(query))


def read_label_status(t: Transport, query: bytes, first_timeout: float,
                      timeout: float, busy_since: int | None = None) -> PrinterStatus:
    """Send a label printer's status `query` (drivers.label.QUERIES) and parse its one reply.

    No complete reply in time is busy or offline, as for receipt printers; a reply the protocol
    does not define is an error state, never an exception.
    """
    drain(t)
    t.write(query)
    unsent = _reference(unsent_bytes(t), busy_since, query)
    reader = LabelStatusReader(query)
    deadline = time.monotonic() + first_timeout
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            data = t.read(64, remaining)
            if not data:
                continue
            statuses = reader.feed(data)
            if statuses:
                return statuses[-1]
            deadline = time.monotonic() + timeout
    except StatusReplyError as e:
        return PrinterStatus(PrinterState.ERROR, (f"invalid status reply: {e}",))
    return silence(unsent, unsent_bytes(t))
