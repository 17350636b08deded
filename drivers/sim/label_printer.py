"""Simulated TSPL and ZPL label printers: pure DeviceModels that keep, split and render labels.

States (`state`): ok, paper_out, head_open, ribbon_out, paused, disconnected, slow.
- Status queries (`<ESC>!?`, `<ESC>!S` for TSPL; `~HS`, `~HI` for ZPL, found by the interpreter so
  bitmap data never looks like one) are answered from the state, even in error states.
- A label printed while the printer is not ready (paper_out, head_open, ribbon_out, paused) is not
  printed: it lands in `rejected` instead of `labels`, so tests can prove the queue held it back.
- disconnected: `connected` is False (the shell refuses connections). slow: replies wait
  `slow_delay` seconds and the shell pauses `read_pause` between reads.
Chinese sent natively (TSS24.BF2 GB bytes, or a ^CW-mapped font with ^CI28 UTF-8) is decoded and
drawn with the CJK font when the profile has that font, so previews are legible on every path.
Models are driven by one shell thread; `state` may be set from another.
"""

from __future__ import annotations

import threading

from PIL import Image

from drivers import InvalidInput
from drivers.label.drawing import DrawBitmap, Drawing, Event, Notice, ParsedLabel, Query
from drivers.label.interpret import reader_for
from drivers.label.render import render_label, to_png
from drivers.profiles import PrinterProfile, get_profile
from drivers.sim.condition import SimCondition

__all__ = ["STATES", "SimLabelPrinter", "SimTsplPrinter", "SimZplPrinter", "tspl_extended_status",
           "tspl_status_byte", "zpl_host_status"]

STATES = ("ok", "paper_out", "head_open", "ribbon_out", "paused", "disconnected", "slow")
NOT_READY = ("paper_out", "head_open", "ribbon_out", "paused")
MAX_KEPT = 1000  # labels kept per list; the oldest go first
MAX_KEPT_BITMAP = 64_000_000  # bitmap bytes kept per list (a ZPL ^GFA of a few bytes can
# declare 2 MB): past it the oldest labels go first, the newest is always kept
MAX_RECEIVED = 16_000_000


def tspl_status_byte(state: str) -> bytes:
    """The answer to `<ESC>!?` in `state`."""
    bits = {"head_open": 0x01, "paper_out": 0x04, "ribbon_out": 0x08, "paused": 0x10}
    return bytes([bits.get(state, 0)])


def tspl_extended_status(state: str) -> bytes:
    """The answer to `<ESC>!S` in `state`: STX, message, warning, error, media, ETX CR LF."""
    message = 0x60 if state == "paused" else 0x40
    media = 0x40 | {"paper_out": 0x01, "ribbon_out": 0x04, "head_open": 0x20}.get(state, 0)
    return bytes([0x02, message, 0x40, 0x40, media, 0x03]) + b"\r\n"


def zpl_host_status(state: str, width: int) -> bytes:
    """The answer to `~HS` in `state`: three STX…ETX CR LF strings."""
    paper = int(state == "paper_out")
    pause = int(state in ("paper_out", "paused"))  # a Zebra pauses itself when paper runs out
    head = int(state == "head_open")
    ribbon = int(state == "ribbon_out")
    one = f"030,{paper},{pause},{width:04d},000,0,0,0,000,0,0,0"
    two = f"001,0,{head},{ribbon},0,2,4,0,00000000,1,000"
    three = "1234,0"
    return b"".join(b"\x02" + s.encode("ascii") + b"\x03\r\n" for s in (one, two, three))


class SimLabelPrinter(SimCondition):
    """A label printer model for TcpShell / PtyShell (drivers.sim.model.DeviceModel)."""

    language = ""
    default_profile = ""
    STATES = STATES
    NOT_READY = NOT_READY

    def __init__(self, profile: PrinterProfile | None = None, state: str = "ok", *,
                 slow_delay: float = 2.0, slow_read_pause: float = 0.05) -> None:
        """`profile` defaults to the class's `default_profile`."""
        profile = profile or get_profile(self.default_profile)
        if profile.language != self.language:
            raise InvalidInput("profile", f"{profile.name} is not a {self.language} printer")
        super().__init__(state, slow_delay, slow_read_pause)
        self.profile = profile
        self.received = bytearray()
        self.labels: list[ParsedLabel] = []
        self.rejected: list[ParsedLabel] = []
        self.notices: list[str] = []
        self.queries: list[str] = []
        self._lock = threading.Lock()
        self._reader = reader_for(profile)
        self._sizes: dict[bool, list[int]] = {True: [], False: []}
        self._sized: tuple[tuple[Drawing, ...], int] = ((), 0)

    def receive(self, data: bytes) -> bytes:
        """Take host bytes; keep them, collect the labels, answer the queries among them."""
        with self._lock:
            if len(self.received) + len(data) <= MAX_RECEIVED:
                self.received += data
            return self._handle(self._reader.feed(data))

    def end_of_stream(self) -> None:
        """The host closed its connection: interpret what is left of the stream."""
        with self._lock:
            self._handle(self._reader.finish())

    def _handle(self, events: list[Event]) -> bytes:
        reply = bytearray()
        for event in events:
            if isinstance(event, Query):
                self.queries.append(event.command)
                reply += self.answer(event.command)
            elif isinstance(event, ParsedLabel):
                self._keep(self.ready, event)
            elif isinstance(event, Notice):
                self.notices.append(event.message)
                del self.notices[:-MAX_KEPT]
        return bytes(reply)

    def _keep(self, printed: bool, label: ParsedLabel) -> None:
        kept, sizes = (self.labels if printed else self.rejected), self._sizes[printed]
        kept.append(label)
        if label.elements is not self._sized[0]:  # labels printed again share their elements
            self._sized = (label.elements, sum(len(e.data) for e in label.elements
                                               if isinstance(e, DrawBitmap)))
        sizes.append(self._sized[1])
        drop = max(len(kept) - MAX_KEPT, 0)
        total = sum(sizes[drop:])
        while len(kept) - drop > 1 and total > MAX_KEPT_BITMAP:
            total -= sizes[drop]
            drop += 1
        del kept[:drop]
        del sizes[:drop]

    def answer(self, command: str) -> bytes:
        """The reply to an immediate query in the current state."""
        raise NotImplementedError

    def render(self, index: int = -1) -> Image.Image:
        """Printed label `index` as the printer would print it (one pixel per dot)."""
        with self._lock:
            label = self.labels[index]
        return render_label(label)

    def png(self, index: int = -1) -> bytes:
        """PNG of printed label `index`."""
        return to_png(self.render(index))


class SimTsplPrinter(SimLabelPrinter):
    """A TSPL label printer (TSC / Gprinter / Xprinter class); default profile tspl-203."""

    language = "tspl"
    default_profile = "tspl-203"

    def answer(self, command: str) -> bytes:
        """`!?` one status byte, `!S` the eight-byte extended status."""
        if command == "!S":
            return tspl_extended_status(self._state)
        return tspl_status_byte(self._state)


class SimZplPrinter(SimLabelPrinter):
    """A ZPL II label printer (Zebra class); default profile zpl-203."""

    language = "zpl"
    default_profile = "zpl-203"

    def answer(self, command: str) -> bytes:
        """`~HS` host status, `~HI` identification."""
        if command == "~HI":
            dpmm = round(self.profile.dpi / 25.4)
            return f"\x02SIMZPL,V1.0,{dpmm},8192KB\x03\r\n".encode("ascii")
        return zpl_host_status(self._state, self.profile.paper_dots)
