"""Sans-I/O scale parser: bytes in, readings out, the same for any chunking of the stream.

Frames that match none of the protocol's patterns (noise, a frame cut by a reconnect, a frame
longer than `max_frame`, BCD with non-decimal nibbles) are skipped and counted, never raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from drivers.scale.protocol import ScaleProtocol

Status = Literal["stable", "motion", "overload", "under_zero"]
_GRAMS_PER_UNIT = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237"),
                   "oz": Decimal("28.349523125")}
_ASCII_NUMBER = re.compile(rb"[+-]?[0-9]+(\.[0-9]*)?|[+-]?\.[0-9]+")


@dataclass(frozen=True)
class Reading:
    """One frame's meaning: the status and, when the frame carries one, the weight in grams."""

    status: Status
    grams: int | None
    net: bool = False

    def as_json(self) -> dict[str, object]:
        """{"status", "grams", "net"}."""
        return {"status": self.status, "grams": self.grams, "net": self.net}


class _Skip(Exception):
    """Internal: the frame matched a pattern but its content is not a reading."""


def to_grams(value: Decimal, unit: str) -> int:
    """`value` in `unit` as integer grams, rounded half away from zero."""
    return int((value * _GRAMS_PER_UNIT[unit]).quantize(Decimal(1), ROUND_HALF_UP))


def _bcd_le(raw: bytes) -> int:
    digits = ""
    for b in reversed(raw):
        hi, lo = b >> 4, b & 0x0F
        if hi > 9 or lo > 9:
            raise _Skip
        digits += f"{hi}{lo}"
    return int(digits)


def _weight(p: ScaleProtocol, raw: bytes, flags: int | None) -> Decimal:
    decimals = p.decimals
    if p.decimal_bits is not None:
        if flags is None:
            raise _Skip
        low, width = p.decimal_bits
        decimals = ((flags >> low) & ((1 << width) - 1)) - p.decimal_offset
        if decimals < 0:
            raise _Skip
    if p.weight_format == "bcd_le":
        return Decimal(_bcd_le(raw)).scaleb(-decimals)
    text = raw.replace(b" ", b"")
    if not _ASCII_NUMBER.fullmatch(text):
        raise _Skip
    try:
        value = Decimal(text.decode("ascii"))
    except InvalidOperation:
        raise _Skip from None
    return value if b"." in text else value.scaleb(-decimals)


def _flag(p: ScaleProtocol, flags: int | None, name: str) -> bool | None:
    bit = p.flag_bits.get(name)
    if bit is None or flags is None:
        return None
    return bool(flags >> bit & 1)


def decode_frame(p: ScaleProtocol, frame: bytes) -> Reading | None:
    """The reading in one whole frame, or None when no pattern matches (garbage)."""
    for rx in p.patterns:
        m = rx.fullmatch(frame)
        if m is None:
            continue
        try:
            return _reading(p, m)
        except _Skip:
            return None
    return None


def _reading(p: ScaleProtocol, m: re.Match[bytes]) -> Reading:
    groups = m.groupdict()
    flags_raw = groups.get("flags")
    flags = flags_raw[0] if flags_raw else None
    word = groups.get("status")
    status = p.status_words.get(word.decode("latin-1")) if word else None
    unit = p.unit
    if groups.get("unit"):
        code = groups["unit"]
        unit = p.unit_codes.get(code) or code.decode("latin-1")
        if unit not in _GRAMS_PER_UNIT:
            raise _Skip
    grams: int | None = None
    raw = groups.get("weight")
    if raw:
        value = _weight(p, raw, flags)
        if _flag(p, flags, "negative") or groups.get("sign") == b"-":
            value = -value
        grams = to_grams(value, unit)
    kind = groups.get("kind")
    net = kind == b"NT" or bool(_flag(p, flags, "net"))
    if status == "overload" or _flag(p, flags, "overload"):
        return Reading("overload", None, net)
    if (status == "motion" or _flag(p, flags, "motion")
            or _flag(p, flags, "stable") is False):
        return Reading("motion", grams, net)
    if _flag(p, flags, "under_zero") or (grams is not None and grams < 0):
        return Reading("under_zero", grams, net)
    if grams is None and status is None and flags is None:
        raise _Skip
    return Reading("stable", grams, net)


class ScaleParser:
    """Feed bytes as they arrive; get the readings of every complete frame."""

    def __init__(self, protocol: ScaleProtocol) -> None:
        self.protocol = protocol
        self.skipped = 0
        """Frames (or unframed bytes) dropped as garbage since the start."""
        self._buf = bytearray()
        self._discarding = False

    def feed(self, data: bytes) -> list[Reading]:
        """Consume `data`; the readings of the frames it completed, in order."""
        self._buf += data
        if self.protocol.frame_length:
            return self._fixed()
        return self._terminated()

    def _terminated(self) -> list[Reading]:
        p = self.protocol
        out: list[Reading] = []
        end = p.frame_end
        while True:
            idx = self._buf.find(end)
            if idx < 0:
                break
            frame = bytes(self._buf[: idx + len(end)])
            del self._buf[: idx + len(end)]
            if self._discarding or len(frame) > p.max_frame:
                self._discarding = False
                self.skipped += 1
                continue
            if p.frame_start:
                start = frame.rfind(p.frame_start)
                if start > 0:
                    self.skipped += 1  # noise glued before the frame
                    frame = frame[start:]
            reading = decode_frame(p, frame)
            if reading is None:
                self.skipped += 1
            else:
                out.append(reading)
        if len(self._buf) > p.max_frame:
            # Keep only what could still begin a terminator; the rest of this frame is dropped.
            self._discarding = True
            del self._buf[: len(self._buf) - (len(end) - 1)]
        return out

    def _fixed(self) -> list[Reading]:
        p = self.protocol
        out: list[Reading] = []
        while True:
            idx = self._buf.find(p.frame_start)
            if idx < 0:
                if self._buf:
                    self.skipped += 1
                keep = len(p.frame_start) - 1
                del self._buf[: len(self._buf) - keep]
                return out
            if idx:
                self.skipped += 1
                del self._buf[:idx]
            if len(self._buf) < p.frame_length:
                return out
            reading = decode_frame(p, bytes(self._buf[: p.frame_length]))
            if reading is None:
                # Resynchronise on the next start byte: this one began no frame.
                self.skipped += 1
                del self._buf[: len(p.frame_start)]
            else:
                out.append(reading)
                del self._buf[: p.frame_length]
