"""`[pairing]` of the box configuration: where HQ's pairing endpoint is, for a box without
`[sync]` (docs/protocol.md §12)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from msgspec import Meta

from validation import Problem, Schema
from validation.decode import collect


@dataclass(frozen=True)
class PairingSettings:
    """HQ's base URL, how often to ask it, and the printer the slip goes to."""

    hq_url: str
    poll_s: float = 5.0
    printer: str | None = None


class PairingTable(Schema, frozen=True, kw_only=True):
    """`[pairing]`."""

    hq_url: Annotated[str, Meta(min_length=1, max_length=2000)]
    poll_s: Annotated[float, Meta(ge=0.2, le=300.0)] = 5.0
    printer: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


def parse_pairing(raw: object, printers: set[str], problems: list[Problem]
                  ) -> PairingSettings | None:
    """`[pairing]` (absent: the box pairs by hand-written `[sync]` only)."""
    if raw is None:
        return None
    t = collect(raw, PairingTable, problems, "pairing")
    if t is None:
        return None
    u = urlsplit(t.hq_url)
    if u.scheme not in ("http", "https") or not u.hostname or u.query or u.fragment:
        problems.append(Problem("pairing.hq_url", "must be HQ's base URL, e.g. "
                                "https://hq.example.cn"))
        return None
    if t.printer is not None and t.printer not in printers:
        problems.append(Problem("pairing.printer", f"no printer {t.printer!r} is configured"))
        return None
    return PairingSettings(t.hq_url.rstrip("/"), t.poll_s, t.printer)
