"""The `[[variable_measure]]` tables: the EAN-13 layouts the shop's barcode scales print."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from drivers import InvalidInput
from drivers.scanner.variable_measure import VariableMeasureFormat, make_format

if TYPE_CHECKING:
    from agent.config import _Reader


def parse_variable_measure(r: _Reader, raw: Mapping[str, object]
                           ) -> tuple[VariableMeasureFormat, ...]:
    """Each `{layout = "21 PPPPP VVVVV C", decimals = 2}`; errors name the dotted key."""
    value = raw.get("variable_measure", [])
    if not isinstance(value, list):
        r.errors.append("variable_measure: must be an array of tables ([[variable_measure]])")
        return ()
    out: list[VariableMeasureFormat] = []
    for i, t in enumerate(value):
        path = f"variable_measure[{i}]"
        if not isinstance(t, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        r.unknown(t, path, {"layout", "decimals"})
        layout = r.text(t, "layout", path, required=True)
        decimals = t.get("decimals")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)):
            r.errors.append(f"{path}.decimals: must be an integer")
            continue
        if not layout:
            continue
        try:
            out.append(make_format(layout, decimals, f"{path}.layout"))
        except InvalidInput as e:
            r.errors.append(f"{e.field}: {e.reason}")
    return tuple(out)
