"""Birth/death liveness as pure functions (Sparkplug-style `bdseq`, docs/protocol.md §Liveness).

A box is online exactly when the newest birth it published has a higher `bdseq` than every
death seen for it. A Will from an earlier session that arrives late — after a fast reconnect, or
replayed as a retained message when HQ restarts — has a lower `bdseq` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from sync.protocol.messages import Birth, Death

Verdict = Literal["online", "offline", "stale", "duplicate"]
Presence = Literal["online", "silent", "offline"]
DEFAULT_KEEPALIVE_S = 20
"""The box's keep-alive when its birth does not say (boxes from before `keepalive_s`)."""


@dataclass(frozen=True)
class Liveness:
    """What HQ knows of one box's sessions: the newest birth and the newest death counter."""

    box: str
    birth_bdseq: int = -1
    death_bdseq: int = -1
    changed_ms: int = 0
    death_reason: str = ""

    @property
    def online(self) -> bool:
        """True when the newest birth is newer than every death."""
        return self.birth_bdseq > self.death_bdseq


def on_birth(state: Liveness, birth: Birth, now_ms: int) -> tuple[Liveness, Verdict]:
    """Apply a birth: a newer session comes online; an older or repeated one changes nothing."""
    if birth.bdseq < state.birth_bdseq or birth.bdseq <= state.death_bdseq:
        return state, "stale"
    if birth.bdseq == state.birth_bdseq:
        return state, "duplicate"
    return replace(state, birth_bdseq=birth.bdseq, changed_ms=now_ms, death_reason=""), "online"


def on_death(state: Liveness, death: Death, now_ms: int) -> tuple[Liveness, Verdict]:
    """Apply a death: it ends the current (or a later) session; an older one is stale."""
    if death.bdseq < state.birth_bdseq or death.bdseq <= state.death_bdseq:
        return state, "stale"
    was_online = state.online
    new = replace(state, death_bdseq=death.bdseq, death_reason=death.reason)
    if was_online:
        new = replace(new, changed_ms=now_ms)
    return new, "offline"


def next_bdseq(previous: int, now_ms: int) -> int:
    """The counter for a new MQTT session: above the last one and never below the wall clock,
    so a box whose state was wiped still counts upward."""
    return max(previous + 1, now_ms)


def telemetry_gap(last: tuple[int, int] | None, bdseq: int, seq: int) -> int:
    """Telemetry messages missed between `last` (bdseq, seq) and this one (0 if none or a
    new session; negative if this one is old or repeated)."""
    if last is None or bdseq > last[0]:
        return max(0, seq - 1)
    if bdseq < last[0]:
        return -1
    return seq - last[1] - 1


def will_window_ms(keepalive_s: int) -> tuple[int, int]:
    """(earliest, latest) delay from a box's last packet to the broker publishing its Will:
    MQTT 5 §3.1.2.10 lets the broker wait 1.5 × keep-alive; mosquitto 2.0.11 was measured at
    1.5 × keep-alive + 1.6-5.1 s (bench/bench_dead_link.py), within 2.5 × keep-alive + 1 s."""
    return keepalive_s * 1500, keepalive_s * 2500 + 1000


def presence(online: bool, last_seen_ms: int, telemetry_interval_s: int, keepalive_s: int,
             now_ms: int) -> Presence:
    """How HQ shows a box: `offline` after its death; `silent` when it counts as online but
    nothing came from it for a telemetry interval plus the Will window — a dead link whose
    Will HQ should have had by then (HQ's own link or the broker is at fault)."""
    if not online:
        return "offline"
    quiet_ms = telemetry_interval_s * 1000 + will_window_ms(keepalive_s)[1]
    return "silent" if now_ms - last_seen_ms > quiet_ms else "online"


def link_lost_ms(will_at_ms: int, last_seen_ms: int, keepalive_s: int) -> tuple[int, int]:
    """(from, to): when the link of a box whose Will arrived at `will_at_ms` died, at the
    latest 1.5 × keep-alive before the Will and never before HQ last heard from the box."""
    early, late = will_window_ms(keepalive_s)
    to = max(last_seen_ms, will_at_ms - early)
    return min(max(last_seen_ms, will_at_ms - late), to), to
