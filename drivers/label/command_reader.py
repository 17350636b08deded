"""What the streaming TSPL and ZPL readers share: chunked bytes in, bounded labels, bad commands
skipped."""

from __future__ import annotations

from abc import ABC, abstractmethod

from drivers import DriverError, InvalidInput
from drivers.label.drawing import DrawBitmap, Drawing, Event, Notice

__all__ = ["MAX_ELEMENTS", "MAX_LABEL_BITMAP", "SKIPPED", "BadCommandError", "CommandReader"]

MAX_ELEMENTS = 5000
MAX_LABEL_BITMAP = 8_000_000  # bitmap bytes on one label (a 6000 × 6000 label is 4.5 MB)


class BadCommandError(DriverError):
    """A malformed command (skipped with a Notice; never leaves a reader)."""


SKIPPED = (BadCommandError, ValueError, IndexError, InvalidInput)
"""What a bad command raises while it is interpreted; it becomes a Notice, never an error."""


class CommandReader(ABC):
    """Feed command bytes in any chunks; get the same events whatever the chunking."""

    def __init__(self, dpi: int, fonts: tuple[str, ...]) -> None:
        self.dpi = dpi
        self.fonts = {f.upper() for f in fonts if f}
        self._buf = bytearray()
        self._elements: list[Drawing] = []
        self._bitmap_bytes = 0  # of the label being built; reset where a label starts

    def feed(self, data: bytes) -> list[Event]:
        """Consume `data`; return the labels printed and queries made in it, in order."""
        self._buf += data
        events: list[Event] = []
        while self._step(events, final=False):
            pass
        return events

    @abstractmethod
    def finish(self) -> list[Event]:
        """The host is done: interpret what is complete enough, drop the rest."""

    @abstractmethod
    def _step(self, events: list[Event], final: bool) -> bool:
        """Interpret the next piece of the buffer; False when more bytes are needed."""

    def _add(self, events: list[Event], element: Drawing) -> None:
        if len(self._elements) >= MAX_ELEMENTS:
            events.append(Notice(f"more than {MAX_ELEMENTS} elements on a label"))
            return
        if isinstance(element, DrawBitmap):
            if self._bitmap_bytes + len(element.data) > MAX_LABEL_BITMAP:
                events.append(Notice(f"bitmaps of more than {MAX_LABEL_BITMAP} bytes on a "
                                     "label: bitmap skipped"))
                return
            self._bitmap_bytes += len(element.data)
        self._elements.append(element)
