"""The `[[variable_measure]]` tables: the EAN-13 layouts the shop's barcode scales print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from msgspec import Meta

from drivers import InvalidInput
from drivers.scanner.variable_measure import VariableMeasureFormat, make_format
from validation import Problem, Schema
from validation.decode import collect_items


class VariableMeasureTable(Schema, frozen=True, kw_only=True):
    """`[[variable_measure]]`: a 13-symbol layout and, optionally, the value's decimals."""

    layout: Annotated[str, Meta(min_length=1)]
    decimals: int | None = None


def parse_variable_measure(raw: Mapping[str, object], problems: list[Problem]
                           ) -> tuple[VariableMeasureFormat, ...]:
    """Each `{layout = "21 PPPPP VVVVV C", decimals = 2}`; problems name the dotted key."""
    out: list[VariableMeasureFormat] = []
    items = collect_items(raw.get("variable_measure"), VariableMeasureTable, problems,
                          "variable_measure")
    for i, (_, t) in enumerate(items):
        if t is None:
            continue
        try:
            out.append(make_format(t.layout, t.decimals, f"variable_measure[{i}].layout"))
        except InvalidInput as e:
            problems.append(Problem(e.field, e.reason))
    return tuple(out)
