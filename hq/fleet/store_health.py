"""A store's health from its boxes as HQ sees them (pure): what colours the overview grid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BAD_PRINTER = frozenset({"paper_out", "cover_open", "jam", "error", "offline", "ribbon_out"})
WARN_PRINTER = frozenset({"paper_low", "paused"})
LAG_WARN = 100
"""Records written on a box but not yet countersigned by HQ beyond which a store is amber."""


@dataclass(frozen=True)
class Health:
    """`ok` (green), `warn` (amber), `bad` (red) or `empty` (no boxes), with why in Chinese."""

    level: str
    reasons: tuple[str, ...]
    online: int
    total: int

    def to_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {"health": self.level, "reasons": list(self.reasons),
                "boxes_online": self.online, "boxes_total": self.total}


def store_health(boxes: Sequence[dict[str, Any]], alarms: int) -> Health:
    """Red for a box offline or never seen, a printer that cannot print, or any alarm; amber for
    a box whose presence is uncertain, a printer running low, or a sync lag over LAG_WARN;
    otherwise green."""
    if not boxes:
        return Health("empty", ("未配置设备",), 0, 0)
    bad: list[str] = []
    warn: list[str] = []
    presence = [str(b.get("presence")) for b in boxes]
    down = sum(p in ("offline", "never") for p in presence)
    unsure = sum(p in ("silent", "unknown") for p in presence)
    if down:
        bad.append(f"{down} 台设备离线")
    if unsure:
        warn.append(f"{unsure} 台设备状态不明")
    if alarms:
        bad.append(f"告警 {alarms} 条")
    for b in boxes:
        for d in b.get("devices") or []:
            if not isinstance(d, dict) or d.get("kind") != "printer":
                continue
            if d.get("state") in BAD_PRINTER:
                bad.append(f"打印机 {d.get('id')} {d.get('state')}")
            elif d.get("state") in WARN_PRINTER:
                warn.append(f"打印机 {d.get('id')} {d.get('state')}")
        lag = b.get("sync_lag")
        if isinstance(lag, int) and lag > LAG_WARN:
            warn.append(f"{b.get('id')} 同步滞后 {lag} 条")
    level = "bad" if bad else "warn" if warn else "ok"
    return Health(level, tuple(bad + warn), presence.count("online"), len(boxes))
