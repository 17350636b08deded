"""GS1 element strings (GS1 General Specifications §3, §7.8-7.12) parsed into named fields."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from drivers import InvalidInput

GS = "\x1d"  # FNC1 as transmitted: ASCII group separator
Gs1Value = str | int


@dataclass(frozen=True)
class _Ai:
    name: str
    kind: str  # "gtin" (check digit), "date", "count", "cset82", "weight", "price", …
    length: int  # fixed length, or the maximum for a variable-length AI
    fixed: bool


AIS: dict[str, _Ai] = {
    "00": _Ai("sscc", "gtin", 18, True),
    "01": _Ai("gtin", "gtin", 14, True),
    "02": _Ai("content_gtin", "gtin", 14, True),
    "10": _Ai("batch", "cset82", 20, False),
    "11": _Ai("production_date", "date", 6, True),
    "13": _Ai("packaging_date", "date", 6, True),
    "15": _Ai("best_before", "date", 6, True),
    "17": _Ai("expiry", "date", 6, True),
    "21": _Ai("serial", "cset82", 20, False),
    "37": _Ai("count", "count", 8, False),
    **{f"310{x}": _Ai("net_weight_g", "weight", 6, True) for x in range(6)},
    **{f"392{x}": _Ai("price_fen", "price", 15, False) for x in range(10)},
    **{f"393{x}": _Ai("price_minor", "price_currency", 18, False) for x in range(10)},
}
CNY = "156"
# ISO 4217 minor units of the currencies a shop here meets; others are taken as 2.
_MINOR_UNITS = {"156": 2, "344": 2, "446": 2, "901": 2, "840": 2, "978": 2, "392": 0, "410": 0}
# Best-before and expiry dates with day 00 mean the last day of the month (§7.12).
_END_OF_MONTH = frozenset({"15", "17"})
_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit for `digits` (the data digits, without their check digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    """True if `code` is 8, 12, 13, 14 or 18 digits with a correct GS1 check digit."""
    return (
        len(code) in (8, 12, 13, 14, 18)
        and code.isascii()
        and code.isdigit()
        and gs1_check_digit(code[:-1]) == int(code[-1])
    )


def parse_gs1(text: str, *, ref_year: int, verify_check_digits: bool = True) -> dict[str, Gs1Value]:
    """Parse an element string (FNC1 = GS) into fields; InvalidInput names the offending AI.

    Dates become "YYYY-MM-DD" (century by the §7.12 sliding window around `ref_year`);
    310x net weight (kg with x decimals) becomes integer grams, rounded half up; 392x price
    (x decimals, the local currency: yuan) becomes `price_fen`; 393x price becomes
    `price_currency` (ISO 4217 numeric, "156" = CNY) and `price_minor` in that currency's minor
    units (+ `price_fen` when it is CNY), rounded half up.
    """
    if text.startswith(GS):
        text = text[1:]  # FNC1 in first position, when a reader transmits it
    if not text:
        raise InvalidInput("gs1", "empty element string")
    fields: dict[str, Gs1Value] = {}
    pos = 0
    while pos < len(text):
        ai, spec = _match_ai(text, pos)
        pos += len(ai)
        if spec.fixed:
            raw = text[pos : pos + spec.length]
            if len(raw) < spec.length:
                raise InvalidInput(f"gs1.{ai}", f"needs {spec.length} characters, got {len(raw)}")
            pos += spec.length
        else:
            end = text.find(GS, pos)
            end = len(text) if end < 0 else end
            raw = text[pos:end]
            pos = end
            if not raw or len(raw) > spec.length:
                raise InvalidInput(f"gs1.{ai}", f"needs 1 to {spec.length} characters")
        if text.startswith(GS, pos):
            pos += 1  # separator after a variable field; tolerated after a fixed one
        if spec.kind == "price_currency":
            currency, raw = raw[:3], raw[3:]
            if len(currency) < 3 or not raw or not (currency.isascii() and currency.isdigit()):
                raise InvalidInput(f"gs1.{ai}", "needs a 3-digit ISO 4217 code and a price")
            _put(fields, ai, "price_currency", currency)
            minor = _minor(ai, raw, _MINOR_UNITS.get(currency, 2))
            if currency == CNY:
                _put(fields, ai, "price_fen", minor)
            _put(fields, ai, spec.name, minor)
            continue
        _put(fields, ai, spec.name, _value(ai, spec, raw, ref_year, verify_check_digits))
    return fields


def _put(fields: dict[str, Gs1Value], ai: str, name: str, value: Gs1Value) -> None:
    if name in fields and fields[name] != value:
        raise InvalidInput(f"gs1.{ai}", "appears twice with different values")
    fields[name] = value


def _minor(ai: str, raw: str, minor_units: int) -> int:
    """Digits with ai[3] decimals as an integer of `minor_units` decimals, half up."""
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidInput(f"gs1.{ai}", f"{raw!r} must be digits")
    decimals, value = int(ai[3]), int(raw)
    if decimals <= minor_units:
        return value * int(10 ** (minor_units - decimals))
    div = int(10 ** (decimals - minor_units))
    return (value + div // 2) // div


def _match_ai(text: str, pos: int) -> tuple[str, _Ai]:
    for n in (2, 3, 4):
        spec = AIS.get(text[pos : pos + n])
        if spec is not None:
            return text[pos : pos + n], spec
    head = text[pos : pos + 4]
    field = f"gs1.{head[:2]}" if head[:2].isdigit() else "gs1"
    raise InvalidInput(field, f"unknown or unsupported AI at offset {pos}: {head!r}")


def _value(ai: str, spec: _Ai, raw: str, ref_year: int, verify: bool) -> Gs1Value:
    field = f"gs1.{ai}"
    if spec.kind == "cset82":
        if not _CSET82.fullmatch(raw):
            raise InvalidInput(field, f"{raw!r} has characters outside GS1 set 82")
        return raw
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidInput(field, f"{raw!r} must be digits")
    if spec.kind == "gtin":
        expected = gs1_check_digit(raw[:-1])
        if verify and expected != int(raw[-1]):
            raise InvalidInput(field, f"check digit {raw[-1]} is wrong, expected {expected}")
        return raw
    if spec.kind == "date":
        return _date(ai, raw, ref_year)
    if spec.kind == "price":
        return _minor(ai, raw, 2)
    if spec.kind == "weight":
        decimals = int(ai[3])
        value = int(raw)
        if decimals <= 3:
            return value * int(10 ** (3 - decimals))
        div = int(10 ** (decimals - 3))
        return (value + div // 2) // div
    return int(raw)  # count


def _date(ai: str, raw: str, ref_year: int) -> str:
    yy, mm, dd = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    if not 1 <= mm <= 12:
        raise InvalidInput(f"gs1.{ai}", f"month {mm:02d} is not 01-12")
    # §7.12: a year 51-99 ahead of ref_year is last century, 50-99 behind is next century.
    year = ref_year - ref_year % 100 + yy
    if year - ref_year >= 51:
        year -= 100
    elif ref_year - year >= 50:
        year += 100
    last = calendar.monthrange(year, mm)[1]
    if dd == 0:
        if ai not in _END_OF_MONTH:
            return f"{year:04d}-{mm:02d}"
        dd = last
    if dd > last:
        raise InvalidInput(f"gs1.{ai}", f"day {dd:02d} is not in {year:04d}-{mm:02d}")
    return f"{year:04d}-{mm:02d}-{dd:02d}"
