"""The `[health]` table: how /v1/health answers when degraded, the disk floor, the stall limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from msgspec import Meta

from validation import Problem, Schema
from validation.decode import collect


@dataclass(frozen=True)
class HealthConfig:
    """`degraded_status`: HTTP status of a degraded /v1/health (200 or 503, for load balancers
    and probes); `disk_min_free_mb`: less free space on the state directory is degraded;
    `stall_s`: a device call or journal batch running longer is stuck (stops the watchdog)."""

    degraded_status: int = 200
    disk_min_free_mb: int = 200
    stall_s: float = 60.0


class HealthTable(Schema, frozen=True, kw_only=True):
    """`[health]`."""

    degraded_status: Literal[200, 503] = 200
    disk_min_free_mb: Annotated[int, Meta(ge=0, le=1_000_000)] = 200
    stall_s: Annotated[float, Meta(ge=1.0, le=3600.0)] = 60.0


def parse_health(raw: Mapping[str, object], problems: list[Problem]) -> HealthConfig:
    """The `[health]` table; problems name their dotted keys."""
    h = collect(raw.get("health", {}), HealthTable, problems, "health")
    if h is None:
        return HealthConfig()
    return HealthConfig(h.degraded_status, h.disk_min_free_mb, h.stall_s)
