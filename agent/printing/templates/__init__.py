"""Receipt-printer templates: business data (amounts in fen) in, a Document for a profile out."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from drivers import InvalidInput

if TYPE_CHECKING:
    from drivers.escpos.document import Document
    from drivers.profiles import PrinterProfile

Builder = Callable[[Mapping[str, object], "PrinterProfile"], "Document"]
NAMES = ("receipt", "sales_slip", "picking_list", "self_test", "defect_sheet")


class _Templates(Mapping[str, Builder]):
    """Each template's `build`, its module loaded on first use (an idle box holds none)."""

    def __getitem__(self, name: str) -> Builder:
        if name not in NAMES:
            raise KeyError(name)
        builder: Builder = importlib.import_module(f"agent.printing.templates.{name}").build
        return builder

    def __iter__(self) -> Iterator[str]:
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


TEMPLATES: Mapping[str, Builder] = _Templates()


def build_document(name: str, data: object, profile: PrinterProfile) -> Document:
    """Run template `name` on `data`; InvalidInput names the bad field (`template` if unknown)."""
    builder = TEMPLATES.get(name)
    if builder is None:
        raise InvalidInput("template", f"unknown template {name!r} "
                                       f"(known: {', '.join(sorted(TEMPLATES))})")
    if not isinstance(data, Mapping):
        raise InvalidInput("data", "must be an object")
    from agent.printing.templates.blocks import reprint_mark  # loaded with the first job
    from drivers.escpos.document import Document

    mark = reprint_mark(data)
    doc = builder(data, profile)
    return Document((*mark, *doc.blocks)) if mark else doc
