"""`[[stations]]`: each workshop station names its scanner, its steps, an optional label printer
and customer display, and its scan and undo windows (docs/workshop.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import _Reader

WINDOW_S = 30.0
UNDO_WINDOW_S = 120.0
MAX_DEFECT_QTY = 20
"""The quantity codes of a defect sheet: SLDQ:1 … SLDQ:20 (scanned several times to add up)."""
UNDO_CODE = "SLUNDO"
"""The code on the station's undo card: scanned, it undoes the station's last handover."""


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


def parse_stations(r: _Reader, raw: Mapping[str, object], scanners: set[str],
                   printers: set[str], displays: set[str]) -> tuple[StationConfig, ...]:
    """The `[[stations]]` array; problems go to `r.errors` naming the key."""
    items = raw.get("stations", [])
    if not isinstance(items, list):
        r.errors.append("stations: must be an array of tables ([[stations]])")
        return ()
    out: list[StationConfig] = []
    seen: set[str] = set()
    used: set[str] = set()
    for i, s in enumerate(items):
        path = f"stations[{i}]"
        if not isinstance(s, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        r.unknown(s, path, {"id", "name", "scanner", "steps", "label_printer", "display",
                            "window_s", "undo_window_s", "defect_reasons"})
        reasons = s.get("defect_reasons", [])
        if (not isinstance(reasons, list) or len(reasons) > 50
                or any(not isinstance(x, str) or not 1 <= len(x) <= 64 or not x.isprintable()
                       for x in reasons)):
            r.errors.append(f"{path}.defect_reasons: must be a list of at most 50 reasons of "
                            "1-64 characters")
            reasons = []
        sid = r.text(s, "id", path, required=True)
        if sid in seen:
            r.errors.append(f"{path}.id: duplicate station id {sid!r}")
        elif sid and not all(c.isalnum() or c in "-_" for c in sid):
            r.errors.append(f"{path}.id: only letters, digits, - and _")
        seen.add(sid)
        scanner = r.text(s, "scanner", path, required=True)
        if scanner and scanner not in scanners:
            r.errors.append(f"{path}.scanner: no scanner {scanner!r} is configured")
        elif scanner in used:
            r.errors.append(f"{path}.scanner: {scanner!r} already drives another station")
        used.add(scanner)
        steps = s.get("steps")
        if (not isinstance(steps, list) or not steps
                or any(type(x) is not int or not 0 <= x <= 10**6 for x in steps)
                or len(set(steps)) != len(steps)):
            r.errors.append(f"{path}.steps: must be a list of distinct step numbers 0-1000000")
            steps = []
        label = s.get("label_printer")
        if label is not None and label not in printers:
            r.errors.append(f"{path}.label_printer: no printer {label!r} is configured")
        display = s.get("display")
        if display is not None and display not in displays:
            r.errors.append(f"{path}.display: no display {display!r} is configured")
        out.append(StationConfig(
            sid, scanner, tuple(steps), r.text(s, "name", path, ""),
            label if isinstance(label, str) else None,
            display if isinstance(display, str) else None,
            r.number(s, "window_s", path, WINDOW_S, 1, 3600),
            r.number(s, "undo_window_s", path, UNDO_WINDOW_S, 0, 86400), tuple(reasons)))
    return tuple(out)
