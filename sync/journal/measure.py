"""Measured sale lines (docs/journal.md §5, rule M): weight or length × a unit price, in fen."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync.journal import RecordError

MEASURES = (("weight_g", "unit_price_per_kg", "kg"), ("length_mm", "unit_price_per_m", "m"))
"""(measure member, its price member, the unit the price is per); 1000 measure units each."""


def measured_price(measure: int, price_per_unit: int) -> int:
    """round-half-up(measure / 1000 × price_per_unit): the fen a weighed or cut item costs."""
    return (measure * price_per_unit + 500) // 1000


def line_measure(line: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The (measure, price, unit) members a line carries, or None for a counted line."""
    for names in MEASURES:
        if names[0] in line or names[1] in line:
            return names
    return None


def check_measured_line(line: Mapping[str, Any], where: str) -> None:
    """Rule M: one measure with its price, qty 1, unit_price and amount following from them."""
    names = line_measure(line)
    if names is None:
        return
    measure, price, unit = names
    for other in MEASURES:
        if other != names and (other[0] in line or other[1] in line):
            raise RecordError(f"{where}.{other[0]}", f"a line has one measure; it has {measure}")
    for member in (measure, price):
        if member not in line:
            raise RecordError(f"{where}.{member}", f"is required with {names[0]}/{names[1]}")
    if line["qty"] != 1:
        raise RecordError(f"{where}.qty", "must be 1 on a measured line")
    gross = measured_price(line[measure], line[price])
    discount = line.get("discount", 0)
    if discount > gross:
        raise RecordError(f"{where}.discount", f"exceeds the measured price {gross}")
    if line["amount"] != gross - discount:
        raise RecordError(f"{where}.amount", f"is {line['amount']}, round-half-up({measure} × "
                          f"{price} / 1000) − discount is {gross - discount}")
    if line["unit_price"] != gross:
        raise RecordError(f"{where}.unit_price", f"is {line['unit_price']}, the measured price "
                          f"is {gross} (per {unit}: {line[price]})")
