"""Sans-I/O framing of a scanner byte stream into scans, by terminator or by idle gap."""

from __future__ import annotations

from dataclasses import dataclass

from drivers import InvalidInput

TERMINATORS: dict[str, bytes] = {
    "CR": b"\r",
    "LF": b"\n",
    "CRLF": b"\r\n",
    "TAB": b"\t",
    "NONE": b"",
}
# Bytes that never occur in text a scanner sends; a frame holding one is line noise
# (e.g. a wrong baud rate produces 0x00 / 0xFF framing errors).
NOISE_BYTES = frozenset({0x00, 0xFF})
DEFAULT_MAX_LEN = 4096


def terminator_bytes(name: str) -> bytes:
    """The terminator bytes for a name in TERMINATORS (case-insensitive); InvalidInput otherwise."""
    try:
        return TERMINATORS[name.upper()]
    except KeyError:
        raise InvalidInput(
            "terminator", f"unknown terminator {name!r}; one of {', '.join(TERMINATORS)}"
        ) from None


@dataclass(frozen=True)
class RawScan:
    """One framed scan: the bytes between terminators and the time its last byte arrived."""

    data: bytes
    at_ms: int


class ScanFramer:
    """Cuts a byte stream into RawScans; any chunking of the same timed input gives the same scans.

    With a terminator, a scan ends at the terminator; a partial scan idle for `idle_timeout_ms`
    (if set) is dropped as stale. With terminator b"" (NONE), a scan ends when the stream has
    been idle for `idle_timeout_ms`. Frames longer than `max_len` are dropped up to the next
    terminator (or idle gap), frames with noise bytes are dropped, and both are counted.
    Only the constructor raises (InvalidInput); feed and tick never do.
    """

    def __init__(
        self,
        terminator: bytes = b"\r",
        max_len: int = DEFAULT_MAX_LEN,
        idle_timeout_ms: int | None = None,
        min_len: int = 1,
    ) -> None:
        if terminator not in TERMINATORS.values():
            raise InvalidInput("terminator", f"unsupported terminator {terminator!r}")
        if max_len < 1:
            raise InvalidInput("max_len", "must be at least 1")
        if min_len < 1 or min_len > max_len:
            raise InvalidInput("min_len", f"must be between 1 and max_len ({max_len})")
        if idle_timeout_ms is not None and idle_timeout_ms < 1:
            raise InvalidInput("idle_timeout_ms", "must be positive")
        if terminator == b"" and idle_timeout_ms is None:
            raise InvalidInput("idle_timeout_ms", "required when there is no terminator")
        self.terminator = terminator
        self.max_len = max_len
        self.min_len = min_len
        self.idle_timeout_ms = idle_timeout_ms
        self._buf = bytearray()
        self._discarding = False
        self._last_ms: int | None = None
        self.scans = 0
        self.overlong = 0
        self.garbage = 0
        self.stale = 0

    @property
    def dropped(self) -> int:
        """Frames dropped so far: overlong + garbage (noise or too short) + stale."""
        return self.overlong + self.garbage + self.stale

    @property
    def pending(self) -> bytes:
        """Bytes of the scan in progress (empty while discarding an overlong frame)."""
        return b"" if self._discarding else bytes(self._buf)

    def feed(self, data: bytes, now_ms: int) -> list[RawScan]:
        """Consume bytes that arrived at `now_ms`; return the scans they complete."""
        out = self._expire(now_ms)
        if not data:
            return out
        self._last_ms = now_ms
        if self.terminator:
            self._feed_terminated(data, now_ms, out)
        else:
            self._feed_unterminated(data)
        return out

    def tick(self, now_ms: int) -> list[RawScan]:
        """Let time pass without data: ends an idle scan (NONE) or drops a stale partial one."""
        return self._expire(now_ms)

    def _feed_terminated(self, data: bytes, now_ms: int, out: list[RawScan]) -> None:
        term = self.terminator
        self._buf += data
        while (idx := self._buf.find(term)) >= 0:
            frame = bytes(self._buf[:idx])
            del self._buf[: idx + len(term)]
            if self._discarding:
                self._discarding = False  # the overlong frame was counted when detected
            else:
                self._accept(frame, now_ms, out)
        # A trailing CR may be the first half of CRLF: it is not content yet.
        held = 1 if len(term) == 2 and self._buf.endswith(term[:1]) else 0
        if not self._discarding and len(self._buf) - held > self.max_len:
            self.overlong += 1
            self._discarding = True
        if self._discarding:
            del self._buf[: len(self._buf) - held]

    def _feed_unterminated(self, data: bytes) -> None:
        if self._discarding:
            return
        self._buf += data
        if len(self._buf) > self.max_len:
            self.overlong += 1
            self._discarding = True
            self._buf.clear()

    def _expire(self, now_ms: int) -> list[RawScan]:
        out: list[RawScan] = []
        last = self._last_ms
        if self.idle_timeout_ms is None or last is None or now_ms - last < self.idle_timeout_ms:
            return out
        if self._discarding:
            self._discarding = False
        elif self._buf:
            if self.terminator:
                self.stale += 1
            else:
                self._accept(bytes(self._buf), last, out)
        self._buf.clear()
        self._last_ms = None
        return out

    def _accept(self, frame: bytes, at_ms: int, out: list[RawScan]) -> None:
        if not frame:
            return  # an empty line between terminators is not a scan
        if len(frame) > self.max_len:
            self.overlong += 1
        elif len(frame) < self.min_len or not NOISE_BYTES.isdisjoint(frame):
            self.garbage += 1
        else:
            self.scans += 1
            out.append(RawScan(frame, at_ms))
