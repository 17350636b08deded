"""Printer states shared by receipt and label printers: values, not exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrinterState(StrEnum):
    """What a printer can be doing, from the queue's point of view."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    RIBBON_OUT = "ribbon_out"
    JAM = "jam"
    PAUSED = "paused"
    ERROR = "error"
    BUSY = "busy"
    """No status reply in time, but the printer is still taking the bytes sent to it."""
    OFFLINE = "offline"


@dataclass(frozen=True)
class PrinterStatus:
    """One status reading: `detail` lists every condition seen, `state` the one that matters."""

    state: PrinterState
    detail: tuple[str, ...] = ()
    drawer_open: bool | None = None

    @property
    def ready(self) -> bool:
        """True when the printer can take a job now (paper low still prints)."""
        return self.state in (PrinterState.OK, PrinterState.PAPER_LOW)


OFFLINE = PrinterStatus(PrinterState.OFFLINE, ("no reply",))
BUSY = PrinterStatus(PrinterState.BUSY, ("no reply", "accepting data"))


def silence(unsent_before: int | None, unsent_now: int | None) -> PrinterStatus:
    """What no status reply within the window means: `busy` while the printer is still taking
    our bytes (fewer of them wait unsent than `unsent_before`, and some still wait: the query
    is queued behind them), else `offline`. None: the transport cannot tell."""
    if unsent_before is None or unsent_now is None:
        return OFFLINE
    return BUSY if 0 < unsent_now < unsent_before else OFFLINE
