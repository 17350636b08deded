"""Variable-measure EAN-13 (restricted circulation prefixes 20-29) as barcode scales print them.

A format is a layout of 13 symbols (spaces ignored): digits are the flag digits (`F` a flag
position that takes any digit, so `2F` is any of 20-29), `P` (or `I`)
the item code, `V` a price, `W` a weight, `N` a count, `X` the GS1 price check digit over a 4-
or 5-digit value (GS1 General Specifications §7.9.3) and `C` the EAN-13 check digit, e.g.
`2F PPPPP VVVVV C` or `28 PPPP X WWWW C`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from drivers import InvalidInput
from drivers.scanner.gs1 import gs1_check_digit

ValueType = Literal["price_fen", "weight_g", "count"]
_VALUE_LETTERS: dict[str, ValueType] = {"V": "price_fen", "W": "weight_g", "N": "count"}
_UNIT_DECIMALS = {"price_fen": 2, "weight_g": 3, "count": 0}
"""Decimals of the unit the value is converted into: fen of a yuan, grams of a kilogram."""

# GS1 §7.9.3 weighting tables: the units digit of digit × 2, × 3, × 5 adjusted by its tens.
_W2M = (0, 2, 4, 6, 8, 9, 1, 3, 5, 7)
_W3 = (0, 3, 6, 9, 2, 5, 8, 1, 4, 7)
_W5P = (0, 5, 1, 6, 2, 7, 3, 8, 4, 9)
_W5M = (0, 5, 9, 4, 8, 3, 7, 2, 6, 1)


def price_check_digit(value: str) -> int:
    """The GS1 price check digit of a 4- or 5-digit value; InvalidInput otherwise."""
    if len(value) not in (4, 5) or not (value.isascii() and value.isdigit()):
        raise InvalidInput("value", "a price check digit needs 4 or 5 digits")
    d = [int(c) for c in value]
    if len(d) == 4:
        return (_W2M[d[0]] + _W2M[d[1]] + _W3[d[2]] + _W5M[d[3]]) * 3 % 10
    total = _W5P[d[0]] + _W2M[d[1]] + _W5M[d[2]] + _W5P[d[3]] + _W2M[d[4]]
    return _W5M.index((10 - total % 10) % 10)


@dataclass(frozen=True)
class VariableMeasureFormat:
    """One layout; `decimals` are the value's decimal places in yuan, kg or pieces."""

    layout: str
    flag: str
    item: slice
    value: slice
    value_type: ValueType
    decimals: int
    price_check: int | None  # index of the X digit


@dataclass(frozen=True)
class VariableMeasure:
    """A parsed variable-measure code: the format's layout, the item code and the value."""

    layout: str
    item: str
    value_type: ValueType
    value: int

    def as_json(self) -> dict[str, object]:
        """{"layout", "item", "<value_type>": value}."""
        return {"layout": self.layout, "item": self.item, self.value_type: self.value}


def _run(symbols: str, letter: str, path: str) -> slice | None:
    first = symbols.find(letter)
    if first < 0:
        return None
    last = symbols.rfind(letter)
    if symbols[first : last + 1] != letter * (last - first + 1):
        raise InvalidInput(path, f"the {letter} digits must be together")
    return slice(first, last + 1)


def make_format(layout: str, decimals: int | None = None, path: str = "layout"
                ) -> VariableMeasureFormat:
    """Check a layout string; InvalidInput names `path` (or `path`'s sibling `decimals`)."""
    symbols = layout.replace(" ", "")
    if len(symbols) != 13 or not all(c.isdigit() or c in "FPIVWNXC" for c in symbols):
        raise InvalidInput(path, "must be 13 symbols: flag digits (F any), P, V|W|N, X and C")
    flag_len = len(symbols) - len(symbols.lstrip("0123456789F"))
    flag = symbols[:flag_len]
    if not flag or flag[0] != "2" or any(c.isdigit() or c == "F" for c in symbols[flag_len:]):
        raise InvalidInput(path, "must start with flag digits 20-29 (restricted circulation)")
    if symbols[-1] != "C" or symbols.count("C") != 1:
        raise InvalidInput(path, "must end with the EAN-13 check digit C")
    item = _run(symbols.replace("I", "P"), "P", path)
    letters = [c for c in _VALUE_LETTERS if c in symbols]
    if item is None or len(letters) != 1:
        raise InvalidInput(path, "needs item digits P and one value kind V, W or N")
    value = _run(symbols, letters[0], path)
    assert value is not None
    value_type = _VALUE_LETTERS[letters[0]]
    check = symbols.find("X")
    if check >= 0 and (symbols.count("X") != 1 or value.stop - value.start not in (4, 5)):
        raise InvalidInput(path, "a price check digit X goes with a 4- or 5-digit value")
    places = _UNIT_DECIMALS[value_type] if decimals is None else decimals
    if not 0 <= places <= _UNIT_DECIMALS[value_type]:
        raise InvalidInput(path.rsplit(".", 1)[0] + ".decimals" if "." in path else "decimals",
                           f"must be 0-{_UNIT_DECIMALS[value_type]} for {value_type}")
    return VariableMeasureFormat(layout, flag, item, value, value_type, places,
                                 check if check >= 0 else None)


class MeasureRefused(InvalidInput):
    """A code in a configured format whose check digits are wrong (the scan is not used)."""


def _flag_matches(flag: str, code: str) -> bool:
    return all(f in ("F", c) for f, c in zip(flag, code, strict=False))


def parse_variable_measure(code: str, formats: tuple[VariableMeasureFormat, ...]
                           ) -> VariableMeasure | None:
    """The measure in `code` per the first format whose flag it carries; None if none applies.

    MeasureRefused names `ean13.check_digit` or `ean13.price_check_digit` when one is wrong.
    """
    if len(code) != 13 or not (code.isascii() and code.isdigit()):
        return None
    fmt = next((f for f in formats if _flag_matches(f.flag, code)), None)
    if fmt is None:
        return None
    expected = gs1_check_digit(code[:12])
    if int(code[12]) != expected:
        raise MeasureRefused("ean13.check_digit", f"is {code[12]}, expected {expected}")
    digits = code[fmt.value]
    if fmt.price_check is not None:
        want = price_check_digit(digits)
        if int(code[fmt.price_check]) != want:
            raise MeasureRefused("ean13.price_check_digit",
                                 f"is {code[fmt.price_check]}, expected {want} for {digits}")
    scale = 10 ** (_UNIT_DECIMALS[fmt.value_type] - fmt.decimals)
    return VariableMeasure(fmt.layout, code[fmt.item], fmt.value_type, int(digits) * scale)


def encode_variable_measure(fmt: VariableMeasureFormat, item: str, value: int) -> str:
    """The 13 digits a barcode scale prints for `item` and `value` (fen, grams or pieces)."""
    symbols = fmt.layout.replace(" ", "")
    scale = 10 ** (_UNIT_DECIMALS[fmt.value_type] - fmt.decimals)
    width = fmt.value.stop - fmt.value.start
    if value % scale or not 0 <= value // scale < 10**width:
        raise InvalidInput("value", f"does not fit {width} digits with {fmt.decimals} decimals")
    if len(item) != fmt.item.stop - fmt.item.start or not item.isdigit():
        raise InvalidInput("item", f"must be {fmt.item.stop - fmt.item.start} digits")
    out = list(symbols)
    out[: len(fmt.flag)] = fmt.flag.replace("F", "0")
    out[fmt.item] = item
    digits = f"{value // scale:0{width}d}"
    out[fmt.value] = digits
    if fmt.price_check is not None:
        out[fmt.price_check] = str(price_check_digit(digits))
    body = "".join(out[:12])
    return body + str(gs1_check_digit(body))
