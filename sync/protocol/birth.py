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
