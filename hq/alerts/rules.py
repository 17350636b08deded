"""The pure core of alerts: a snapshot of the fleet and the books, and `now`, in; the
conditions that hold, and which alerts to raise and clear, out.

A condition is keyed by (kind, subject); an alert is open while its condition holds. Kinds not
judged this round (disabled, or HQ's broker link down for box kinds) keep their alerts as they
are. Latched kinds (hq.alerts.kinds.LATCHED) are raised once per subject ever and never
cleared here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from hq.alert_config import BOX_KINDS, LATCHED, PRINTER_STATES, AlertConfig

Key = tuple[str, str]
"""(kind, subject)."""
CHINA_OFFSET = timedelta(hours=8)


@dataclass(frozen=True)
class Condition:
    """Something that should be alerted on: its kind, subject, box and store, and a detail."""

    kind: str
    subject: str
    box: str = ""
    store: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> Key:
        """(kind, subject)."""
        return (self.kind, self.subject)


@dataclass(frozen=True)
class OpenPeriod:
    """A box's money records since its last day close: the box time of the first one."""

    box: str
    first_ms: int


@dataclass(frozen=True)
class Disagreement:
    """A closed Z period whose HQ figures differ from the signed day close."""

    box: str
    z: int
    day: str
    differences: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Snapshot:
    """What a round judges: the fleet view (hq.fleet.hq_link.fleet_view), whether HQ's broker
    link is up, journal alarms, HQ's stored journal sizes and last receipt times, open periods,
    disagreeing settlements, and each box's store."""

    boxes: Sequence[Mapping[str, Any]] = ()
    link_up: bool = True
    alarms: Sequence[Mapping[str, Any]] = ()
    """`{"box", "kind", "seq", "reason", "at_ms"}` of kind gap or fork."""
    sizes: Mapping[str, int] = field(default_factory=dict)
    """Records HQ holds per box."""
    received_ms: Mapping[str, int] = field(default_factory=dict)
    """When HQ last stored a record of each box."""
    open_periods: Sequence[OpenPeriod] = ()
    disagreements: Sequence[Disagreement] = ()
    store_of: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What a round changes: conditions to raise an alert for, keys whose alert clears."""

    raise_: tuple[Condition, ...]
    clear: tuple[Key, ...]


def china_day_start_ms(day: str) -> int:
    """The UTC millisecond time at which China date `day` begins."""
    d = date.fromisoformat(day)
    start = datetime(d.year, d.month, d.day) - CHINA_OFFSET
    return int((start - datetime(1970, 1, 1)).total_seconds()) * 1000


def china_day(time_ms: int) -> str:
    """The China date (YYYY-MM-DD) of a UTC millisecond time."""
    return (datetime(1970, 1, 1) + timedelta(milliseconds=time_ms) + CHINA_OFFSET
            ).date().isoformat()


def judged_kinds(snap: Snapshot, cfg: AlertConfig) -> frozenset[str]:
    """The kinds this round decides about (enabled; box kinds only while HQ's link is up)."""
    kinds = cfg.kinds if cfg.enabled else frozenset()
    return kinds if snap.link_up else kinds - BOX_KINDS


def _box_conditions(b: Mapping[str, Any], snap: Snapshot, cfg: AlertConfig,
                    now_ms: int) -> Iterable[Condition]:
    box = str(b["id"])
    store = snap.store_of.get(box, "")
    presence = b.get("presence")
    if presence in ("offline", "silent"):
        since = int(b.get("since_ms") or 0) if presence == "offline" else int(
            b.get("last_seen_ms") or 0)
        if now_ms - since >= cfg.offline_after_s * 1000:
            yield Condition("box_offline", box, box, store,
                            {"since_ms": since, "reason": b.get("offline_reason") or presence})
        return
    if presence != "online":
        return  # never seen, or unknown: nothing HQ can stand behind
    for d in b.get("devices") or ():
        kind = PRINTER_STATES.get(str(d.get("state")))
        if kind is not None and d.get("kind") == "printer":
            yield Condition(kind, f"{box}/{d.get('id')}", box, store,
                            {"printer": d.get("id"), "state": d.get("state"),
                             "text": d.get("detail") or ""})
    lag = int(b.get("sync_lag") or 0)
    if lag > 0:
        heard = max(snap.received_ms.get(box, 0), int(b.get("since_ms") or 0))
        late_ms = now_ms - heard
        if lag >= cfg.sync_lag_records or late_ms >= cfg.sync_lag_s * 1000:
            yield Condition("sync_lag", box, box, store,
                            {"records": lag, "seconds": max(0, late_ms // 1000)})


def conditions(snap: Snapshot, cfg: AlertConfig, now_ms: int) -> dict[Key, Condition]:
    """Every condition that holds now, of the kinds judged this round."""
    judged = judged_kinds(snap, cfg)
    # A box's store: the configured one, else the one its birth names.
    named = {str(b["id"]): str(b["store"]) for b in snap.boxes if b.get("store")}
    snap = replace(snap, store_of={**named, **snap.store_of})
    found: list[Condition] = []
    for b in snap.boxes:
        found.extend(_box_conditions(b, snap, cfg, now_ms))
    for a in snap.alarms:
        box, seq = str(a["box"]), int(a["seq"])
        detail = {"seq": seq, "reason": a.get("reason", ""), "at_ms": a.get("at_ms")}
        if a["kind"] == "fork":
            found.append(Condition("journal_fork", f"{box}#{seq}", box,
                                   snap.store_of.get(box, ""), detail))
        elif a["kind"] == "gap" and snap.sizes.get(box, 0) <= seq:
            # A gap heals when the box sends the missing records: HQ then holds past it.
            found.append(Condition("journal_gap", f"{box}#{seq}", box,
                                   snap.store_of.get(box, ""), detail))
    for p in snap.open_periods:
        day = china_day(p.first_ms)
        due = china_day_start_ms(day) + cfg.deadline_min() * 60_000
        if now_ms >= due:
            found.append(Condition("day_not_closed", f"{p.box}#{day}", p.box,
                                   snap.store_of.get(p.box, ""),
                                   {"day": day, "due_ms": due, "first_ms": p.first_ms}))
    for s in snap.disagreements:
        found.append(Condition("clearing_difference", f"{s.box}#z{s.z}", s.box,
                               snap.store_of.get(s.box, ""),
                               {"z": s.z, "day": s.day, "differences": list(s.differences)}))
    return {c.key: c for c in found if c.kind in judged}


def plan(open_keys: Collection[Key], ever_latched: Collection[Key],
         holding: Mapping[Key, Condition], judged: Collection[str]) -> Plan:
    """Raise an alert for each holding condition without an open one (a latched kind: without
    any one ever), clear each open alert of a judged, unlatched kind whose condition is gone."""
    raise_ = tuple(c for k, c in sorted(holding.items())
                   if k not in open_keys and not (k[0] in LATCHED and k in ever_latched))
    clear = tuple(sorted(k for k in open_keys
                         if k[0] in judged and k[0] not in LATCHED and k not in holding))
    return Plan(raise_, clear)
