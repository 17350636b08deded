"""`[[stations]]`: each workshop station names its scanner, its steps, an optional label printer
and customer display, and its scan and undo windows (docs/workshop.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta

from validation import Problem, Schema
from validation.decode import collect_items

MAX_DEFECT_QTY = 20
"""The quantity codes of a defect sheet: SLDQ:1 … SLDQ:20 (scanned several times to add up)."""
UNDO_CODE = "SLUNDO"
"""The code on the station's undo card: scanned, it undoes the station's last handover."""

WINDOW_S = 30.0
UNDO_WINDOW_S = 120.0


@dataclass(frozen=True)
class StationConfig:
    """One station: the scanner that drives it and the route steps it records."""

    id: str
    scanner: str
    steps: tuple[int, ...]
    name: str = ""
    label_printer: str | None = None
    display: str | None = None
    window_s: float = WINDOW_S
    undo_window_s: float = UNDO_WINDOW_S
    defect_reasons: tuple[str, ...] = ()
    """Reason k (from 1) is scanned as SLDR:k, then a quantity SLDQ:1 … SLDQ:20."""
    beeper: str | None = None
    """An ESC/POS printer with a buzzer that beeps on every refusal."""


class StationTable(Schema, frozen=True, kw_only=True):
    """`[[stations]]`."""

    id: Annotated[str, Meta(min_length=1)]
    scanner: Annotated[str, Meta(min_length=1)]
    steps: Annotated[list[Annotated[int, Meta(ge=0, le=10**6)]], Meta(min_length=1)]
    name: str = ""
    label_printer: str | None = None
    display: str | None = None
    window_s: Annotated[float, Meta(ge=1, le=3600)] = WINDOW_S
    undo_window_s: Annotated[float, Meta(ge=0, le=86400)] = UNDO_WINDOW_S
    defect_reasons: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]],
                              Meta(max_length=50)] = msgspec.field(default_factory=list)
    beeper: str | None = None


def parse_stations(raw: Mapping[str, object], problems: list[Problem], scanners: set[str],
                   printers: set[str], displays: set[str], beepers: frozenset[str] = frozenset()
                   ) -> tuple[StationConfig, ...]:
    """The `[[stations]]` array; problems name the dotted key. `beepers`: the printers whose
    profile has a buzzer."""
    out: list[StationConfig] = []
    seen: set[str] = set()
    used: set[str] = set()
    items = collect_items(raw.get("stations"), StationTable, problems, "stations")
    for i, (_, s) in enumerate(items):
        path = f"stations[{i}]"
        if s is None:
            continue
        if s.id in seen:
            problems.append(Problem(f"{path}.id", f"duplicate station id {s.id!r}"))
        elif not all(c.isalnum() or c in "-_" for c in s.id):
            problems.append(Problem(f"{path}.id", "only letters, digits, - and _"))
        seen.add(s.id)
        if s.scanner not in scanners:
            problems.append(Problem(f"{path}.scanner", f"no scanner {s.scanner!r} is configured"))
        elif s.scanner in used:
            problems.append(Problem(f"{path}.scanner",
                                    f"{s.scanner!r} already drives another station"))
        used.add(s.scanner)
        if len(set(s.steps)) != len(s.steps):
            problems.append(Problem(f"{path}.steps", "must be distinct step numbers"))
        if any(not x.isprintable() for x in s.defect_reasons):
            problems.append(Problem(f"{path}.defect_reasons", "reasons must be printable text"))
        if s.label_printer is not None and s.label_printer not in printers:
            problems.append(Problem(f"{path}.label_printer",
                                    f"no printer {s.label_printer!r} is configured"))
        if s.display is not None and s.display not in displays:
            problems.append(Problem(f"{path}.display", f"no display {s.display!r} is configured"))
        if s.beeper is not None and s.beeper not in beepers:
            problems.append(Problem(f"{path}.beeper", f"no printer {s.beeper!r} with a buzzer "
                                    "(an ESC/POS profile with beep = true) is configured"))
        out.append(StationConfig(s.id, s.scanner, tuple(s.steps), s.name, s.label_printer,
                                 s.display, s.window_s, s.undo_window_s,
                                 tuple(s.defect_reasons), s.beeper))
    return tuple(out)
