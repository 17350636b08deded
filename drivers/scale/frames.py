"""Frames the built-in protocols send for a weight and status (the simulator's encoder)."""

from __future__ import annotations

from drivers import InvalidInput

STATUSES = ("stable", "motion", "overload", "under_zero")
TOLEDO_MOTION, TOLEDO_OVERLOAD, TOLEDO_UNDER_ZERO = 0x01, 0x02, 0x04
_TOLEDO_BASE = 0x20  # bit 5 is always set, so the status byte is printable


def _check(grams: int, status: str) -> None:
    if status not in STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}")
    if not -999_999 <= grams <= 999_999:
        raise InvalidInput("grams", "must be -999999 to 999999")


def _kg(grams: int) -> str:
    return f"{abs(grams) // 1000:04d}.{abs(grams) % 1000:03d}"


def toledo_answer(grams: int, status: str) -> bytes:
    """Toledo 8217's answer to W: STX weight CR when stable, else STX ? status-byte CR."""
    _check(grams, status)
    if status == "stable" and grams >= 0:
        return b"\x02" + _kg(grams)[1:].encode() + b"\r"
    bits = {"motion": TOLEDO_MOTION, "overload": TOLEDO_OVERLOAD}.get(status, TOLEDO_UNDER_ZERO)
    return b"\x02?" + bytes([_TOLEDO_BASE | bits]) + b"\r"


def ad_frame(grams: int, status: str, net: bool = False) -> bytes:
    """One line of the continuous 'ST,GS,+0001.234kg' CR LF output."""
    _check(grams, status)
    kind = "NT" if net else "GS"
    sign = "-" if grams < 0 else "+"
    if status == "overload":
        return f"OL,{kind},{sign}         \r\n".encode()
    word = "US" if status == "motion" else "ST"
    return f"{word},{kind},{sign}{_kg(grams)}kg\r\n".encode()


def jcs_frame(grams: int, status: str) -> bytes:
    """One 6-byte Yousheng JCS-B class frame: FF, flags, 3 BCD bytes (LSB first), unit 0 = kg."""
    _check(grams, status)
    flags = 3 + 1  # three decimals (kg with gram resolution), the decimal field is offset by 1
    if grams < 0:
        flags |= 1 << 5
    if status in ("stable", "under_zero"):
        flags |= 1 << 6
    if status == "overload":
        flags |= 1 << 7
    digits = f"{abs(grams):06d}"
    bcd = bytes(int(digits[i : i + 2], 16) for i in (4, 2, 0))
    return b"\xff" + bytes([flags]) + bcd + b"\x00"


def frame_for(protocol: str, grams: int, status: str, net: bool = False) -> bytes:
    """What a built-in `protocol` sends (continuous) or answers to its poll (polled)."""
    if protocol == "toledo-8217":
        return toledo_answer(grams, status)
    if protocol == "ad-continuous":
        return ad_frame(grams, status, net)
    if protocol == "yousheng-jcs":
        return jcs_frame(grams, status)
    raise InvalidInput("protocol", f"no simulator for {protocol!r}; built-ins: toledo-8217, "
                       "ad-continuous, yousheng-jcs")
