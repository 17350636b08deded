"""`[pairing]` of HQ's configuration: the CA that signs boxes, the broker they are sent to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from msgspec import Meta

from validation import Problem, Schema
from validation.decode import collect


@dataclass(frozen=True)
class PairingConfig:
    """Where HQ's CA and pairing book live, what adopted boxes are told, and for how long a
    code and a certificate hold."""

    ca_dir: Path
    db: Path
    broker_host: str
    broker_port: int = 8883
    code_ttl_s: int = 86_400
    cert_days: int = 825
    max_failures: int = 10
    """Wrong codes HQ takes per `failure_window_s` before it refuses every adoption (429)."""
    failure_window_s: int = 600


class PairingTable(Schema, frozen=True, kw_only=True):
    """`[pairing]`."""

    ca_dir: Annotated[str, Meta(min_length=1)]
    db: Annotated[str, Meta(min_length=1)] = "pairing.db"
    broker_host: Annotated[str, Meta(min_length=1, max_length=253)]
    broker_port: Annotated[int, Meta(ge=1, le=65535)] = 8883
    code_ttl_s: Annotated[int, Meta(ge=60, le=7 * 86_400)] = 86_400
    cert_days: Annotated[int, Meta(ge=1, le=3650)] = 825
    max_failures: Annotated[int, Meta(ge=1, le=1000)] = 10
    failure_window_s: Annotated[int, Meta(ge=10, le=86_400)] = 600


def parse_pairing(raw: object, problems: list[Problem], path: Callable[[str], Path]
                  ) -> PairingConfig | None:
    """`[pairing]` (absent: HQ adopts no boxes); relative paths through `path`."""
    if raw is None:
        return None
    t = collect(raw, PairingTable, problems, "pairing")
    if t is None:
        return None
    return PairingConfig(path(t.ca_dir), path(t.db), t.broker_host, t.broker_port, t.code_ttl_s,
                         t.cert_days, t.max_failures, t.failure_window_s)
