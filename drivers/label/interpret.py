"""A label printer's language (TSPL or ZPL) picked from its profile: encode a label document for
it, or interpret its command stream back into drawn labels (simulator and preview input).

The encoders live in tspl / zpl and the streaming readers in tspl_reader / zpl_reader; these
helpers pick one for a printer profile and run a whole document or byte string through it.
"""

from __future__ import annotations

from drivers import InvalidInput
from drivers.label.document import LabelDocument
from drivers.label.drawing import Event, ParsedLabel
from drivers.label.tspl import encode_tspl
from drivers.label.tspl_reader import TsplReader
from drivers.label.zpl import encode_zpl
from drivers.label.zpl_reader import ZplReader
from drivers.print_budget import Budget
from drivers.profiles import PrinterProfile

__all__ = ["encode_label", "interpret", "interpret_events", "reader_for"]


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


def reader_for(profile: PrinterProfile) -> TsplReader | ZplReader:
    """A fresh streaming reader for a label printer of `profile` (its dpi, width and fonts)."""
    fonts = (profile.label_cjk_font,) if profile.label_cjk_font else ()
    if profile.language == "tspl":
        return TsplReader(profile.dpi, fonts, profile.paper_dots)
    if profile.language == "zpl":
        return ZplReader(profile.dpi, fonts, profile.paper_dots)
    raise ValueError(f"{profile.name} is not a label printer ({profile.language})")


def interpret_events(data: bytes, profile: PrinterProfile) -> list[Event]:
    """Every event in `data`, the stream ended after it."""
    reader = reader_for(profile)
    return reader.feed(data) + reader.finish()


def interpret(data: bytes, profile: PrinterProfile) -> list[ParsedLabel]:
    """The labels `data` prints on a printer of `profile`."""
    return [e for e in interpret_events(data, profile) if isinstance(e, ParsedLabel)]
