"""Encoder for the Chinese single-line LED price display (客显): lamps and an 8-digit number."""

from __future__ import annotations

import re
from enum import IntEnum

from drivers import InvalidInput

ESC = 0x1B
CLR = 0x0C
CR = 0x0D
MAX_DIGITS = 8
_NUMBER = re.compile(r"[0-9]*\.?[0-9]*")


class Lamp(IntEnum):
    """The status lamp under the digits, selected by ESC s with the ASCII digit of its value."""

    OFF = 0
    UNIT_PRICE = 1
    TOTAL = 2
    RECEIVED = 3
    CHANGE = 4

    @property
    def label(self) -> str:
        """The Chinese caption printed beside the lamp ("" for OFF)."""
        return LAMP_LABELS[self]

    @classmethod
    def from_label(cls, label: str) -> Lamp:
        """The lamp whose caption is `label` (单价 / 总计 / 收款 / 找零); InvalidInput otherwise."""
        for lamp, text in LAMP_LABELS.items():
            if text and text == label:
                return lamp
        raise InvalidInput("lamp", f"no lamp is labelled {label!r}")


LAMP_LABELS: dict[Lamp, str] = {
    Lamp.OFF: "",
    Lamp.UNIT_PRICE: "单价",
    Lamp.TOTAL: "总计",
    Lamp.RECEIVED: "收款",
    Lamp.CHANGE: "找零",
}


def init() -> bytes:
    """ESC @ (1B 40): reset the display; lamps off."""
    return bytes([ESC, 0x40])


def clear() -> bytes:
    """CLR (0C): blank the digits."""
    return bytes([CLR])


def select_lamp(lamp: Lamp | int) -> bytes:
    """ESC s n (1B 73 30+n): light one lamp, n = '0' all off … '4' 找零."""
    try:
        lamp = Lamp(lamp)
    except ValueError:
        raise InvalidInput("lamp", f"{lamp!r} is not 0-4") from None
    return bytes([ESC, 0x73, 0x30 + lamp])


def show_number(text: str) -> bytes:
    """ESC Q A d…d CR (1B 51 41 … 0D): show digits with at most one '.', up to 8 digits."""
    if not text or not _NUMBER.fullmatch(text) or text == ".":
        raise InvalidInput("number", f"{text!r} must be digits with at most one '.'")
    if sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise InvalidInput("number", f"{text!r} has more than {MAX_DIGITS} digits")
    return bytes([ESC, 0x51, 0x41]) + text.encode("ascii") + bytes([CR])


def format_fen(fen: int) -> str:
    """Yuan text for an amount in fen: 1250 -> "12.50"; InvalidInput for a negative amount."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise InvalidInput("fen", f"{fen!r} is not an integer amount in fen")
    if fen < 0:
        raise InvalidInput("fen", "the display has no minus sign")
    return f"{fen // 100}.{fen % 100:02d}"


def show_amount(lamp: Lamp | int, fen: int) -> bytes:
    """Light `lamp` and show `fen` as yuan with two decimals (max 999999.99)."""
    return select_lamp(lamp) + show_number(format_fen(fen))
