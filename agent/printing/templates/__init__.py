"""Receipt-printer templates: business data (amounts in fen) in, a Document for a profile out."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from agent.printing.templates import defect_sheet, picking_list, receipt, sales_slip, self_test
from drivers import InvalidInput
from drivers.escpos.document import Document
from drivers.profiles import PrinterProfile

Builder = Callable[[Mapping[str, object], PrinterProfile], Document]

TEMPLATES: Mapping[str, Builder] = {
    "receipt": receipt.build,
    "sales_slip": sales_slip.build,
    "picking_list": picking_list.build,
    "self_test": self_test.build,
    "defect_sheet": defect_sheet.build,
}


def build_document(name: str, data: object, profile: PrinterProfile) -> Document:
    """Run template `name` on `data`; InvalidInput names the bad field (`template` if unknown)."""
    builder = TEMPLATES.get(name)
    if builder is None:
        raise InvalidInput("template", f"unknown template {name!r} "
                                       f"(known: {', '.join(sorted(TEMPLATES))})")
    if not isinstance(data, Mapping):
        raise InvalidInput("data", "must be an object")
    return builder(data, profile)
