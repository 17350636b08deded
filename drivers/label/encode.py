"""Encode a label document for a printer profile's language (TSPL or ZPL)."""

from __future__ import annotations

from drivers import InvalidInput
from drivers.label.document import LabelDocument
from drivers.label.tspl import encode_tspl
from drivers.label.zpl import encode_zpl
from drivers.print_budget import Budget
from drivers.profiles import PrinterProfile

__all__ = ["encode_label"]


def encode_label(label: LabelDocument, profile: PrinterProfile, path: str = "document",
                 budget: Budget | None = None) -> bytes:
    """The bytes printing `label` on `profile`; InvalidInput names what does not fit,
    JobTooLarge what takes it over its `budget` (default: print_budget.label_budget())."""
    if profile.language == "tspl":
        return encode_tspl(label, profile, path, budget)
    if profile.language == "zpl":
        return encode_zpl(label, profile, path, budget)
    raise InvalidInput("profile", f"{profile.name} is a {profile.language} printer, "
                                  "not a label printer")
