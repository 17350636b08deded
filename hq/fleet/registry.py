"""The device registry: every box's liveness (births, deaths), its devices and its telemetry.

Births and deaths reach every HQ worker (they are retained and not shared), so each update is
an idempotent read-modify-write decided by the pure rules of sync.protocol.birth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hq.store import HqStore
from sync.protocol.birth import (
    DEFAULT_KEEPALIVE_S,
    Liveness,
    link_lost_ms,
    on_birth,
    on_death,
    presence,
    telemetry_gap,
)
from sync.protocol.messages import Birth, Death, Telemetry


def _liveness(box: str, st: dict[str, Any] | None) -> Liveness:
    if st is None:
        return Liveness(box)
    return Liveness(box, st.get("birth_bdseq", -1), st.get("death_bdseq", -1),
                    st.get("changed_ms", 0), st.get("death_reason", ""))


def _with_liveness(st: dict[str, Any] | None, live: Liveness, now_ms: int,
                   heard: bool = True) -> dict[str, Any]:
    """The new state; `heard` False for a Will, which the broker sends, not the box."""
    out = dict(st or {"id": live.box})
    out.update({"online": live.online, "birth_bdseq": live.birth_bdseq,
                "death_bdseq": live.death_bdseq, "changed_ms": live.changed_ms,
                "death_reason": live.death_reason})
    if heard or "last_seen_ms" not in out:
        out["last_seen_ms"] = now_ms
    return out


class Registry:
    """Boxes as HQ sees them, kept in the store."""

    def __init__(self, store: HqStore, clock: Callable[[], int]) -> None:
        self.store = store
        self.clock = clock

    def _judge(self, box: str, step: Callable[[dict[str, Any] | None, int],
                                              tuple[dict[str, Any] | None, str]]) -> str:
        """Update `box`'s state with `step(state, now)` -> (new state or None, verdict); returns
        the verdict of the last run (the store may run it again on a race)."""
        now = self.clock()
        verdict = ""

        def fn(st: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal verdict
            new, verdict = step(st, now)
            return new

        self.store.box_update(box, fn)
        return verdict

    def birth(self, birth: Birth) -> str:
        """Apply a birth; returns the verdict (online, duplicate, stale)."""
        def step(st: dict[str, Any] | None, now: int) -> tuple[dict[str, Any] | None, str]:
            live, verdict = on_birth(_liveness(birth.box, st), birth, now)
            if verdict == "stale":
                return None, verdict
            out = _with_liveness(st, live, now)
            out["birth"] = json.loads(birth.to_json())
            out["devices"] = out["birth"]["devices"]
            return out, verdict

        return self._judge(birth.box, step)

    def death(self, death: Death) -> str:
        """Apply a death; returns the verdict (offline, stale)."""
        def step(st: dict[str, Any] | None, now: int) -> tuple[dict[str, Any] | None, str]:
            live, verdict = on_death(_liveness(death.box, st), death, now)
            return (None if verdict == "stale" else
                    _with_liveness(st, live, now, heard=death.reason == "shutdown")), verdict

        return self._judge(death.box, step)

    def telemetry(self, t: Telemetry) -> int:
        """Record telemetry; returns how many messages were missed before it (-1: old one)."""
        now = self.clock()
        gap = 0

        def fn(st: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal gap
            out = dict(st or {"id": t.box, "online": False})
            last = out.get("telemetry_pos")
            gap = telemetry_gap((last[0], last[1]) if last else None, t.bdseq, t.seq)
            if gap < 0:
                return None
            out["telemetry"] = json.loads(t.to_json())
            out["devices"] = out["telemetry"]["devices"]
            out["telemetry_pos"] = [t.bdseq, t.seq]
            out["telemetry_gaps"] = out.get("telemetry_gaps", 0) + gap
            out["last_seen_ms"] = now
            return out

        self.store.box_update(t.box, fn)
        return gap

    def boxes(self) -> list[dict[str, Any]]:
        """Every known box, by id."""
        now = self.clock()
        return [_view(st, now) for st in self.store.box_states().values()]

    def box(self, box_id: str) -> dict[str, Any] | None:
        """One box, or None."""
        st = self.store.box_state(box_id)
        return None if st is None else _view(st, self.clock())


def _view(st: dict[str, Any], now_ms: int) -> dict[str, Any]:
    birth = st.get("birth") or {}
    tel = st.get("telemetry") or {}
    journal = tel.get("journal") or birth.get("journal") or {}
    online = bool(st.get("online"))
    keepalive = birth.get("keepalive_s") or DEFAULT_KEEPALIVE_S
    seen = st.get("last_seen_ms", 0)
    lost = (list(link_lost_ms(st.get("changed_ms", 0), seen, keepalive))
            if not online and st.get("death_reason") == "lost" else None)
    return {"id": st["id"], "online": online,
            "presence": presence(online, seen, birth.get("telemetry_interval_s", 30), keepalive,
                                 now_ms),
            "keepalive_s": keepalive, "link_lost_ms": lost,
            "bdseq": max(st.get("birth_bdseq", -1), st.get("death_bdseq", -1)),
            "since_ms": st.get("changed_ms", 0), "offline_reason": st.get("death_reason", ""),
            "last_seen_ms": st.get("last_seen_ms", 0), "version": birth.get("version"),
            "store": birth.get("store"), "name": birth.get("name"),
            "devices": st.get("devices", []), "queues": tel.get("queues", {}),
            "journal": journal,
            "sync_lag": max(0, journal.get("head", 0) - journal.get("acked", 0)),
            "uptime_s": tel.get("uptime_s"), "disk_free_bytes": tel.get("disk_free_bytes"),
            "temperature_mc": tel.get("temperature_mc"),
            "telemetry_gaps": st.get("telemetry_gaps", 0)}
