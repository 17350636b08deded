"""The `[health]` table: how /v1/health answers when degraded, the disk floor, the stall limit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.config import _Reader

KEYS = {"degraded_status", "disk_min_free_mb", "stall_s"}


@dataclass(frozen=True)
class HealthConfig:
    """`degraded_status`: HTTP status of a degraded /v1/health (200 or 503, for load balancers
    and probes); `disk_min_free_mb`: less free space on the state directory is degraded;
    `stall_s`: a device call or journal batch running longer is stuck (stops the watchdog)."""

    degraded_status: int = 200
    disk_min_free_mb: int = 200
    stall_s: float = 60.0


def parse_health(r: _Reader, raw: Mapping[str, object]) -> HealthConfig:
    """The `[health]` table; errors go to the reader with their dotted keys."""
    h = r.table(raw, "health", "health")
    r.unknown(h, "health", KEYS)
    status = r.integer(h, "degraded_status", "health", 200, 200, 503)
    if status not in (200, 503):
        r.errors.append("health.degraded_status: must be 200 or 503")
    return HealthConfig(status, r.integer(h, "disk_min_free_mb", "health", 200, 0, 1_000_000),
                        r.number(h, "stall_s", "health", 60.0, 1.0, 3600.0))
