"""Raising and clearing alerts in the store (blocking): what the periodic round applies, and
what other rooms call to raise or clear an alert of a kind for a subject (e.g. clearing runs
raise and clear `clearing_difference`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hq.alert_config import KINDS, LATCHED, AlertConfig
from hq.alerts import AlertError
from hq.alerts.rules import Condition, Plan
from hq.store import HqStore

MQTT_TARGET = "mqtt"


def targets(cfg: AlertConfig) -> tuple[str, ...]:
    """Where every raise and clear is delivered: MQTT and each configured webhook."""
    return (MQTT_TARGET, *(f"webhook:{h.name}" for h in cfg.webhooks))


def _known(kind: str) -> None:
    if kind not in KINDS:
        raise AlertError(f"unknown alert kind {kind!r}; kinds are: {', '.join(KINDS)}")


def raise_alert(store: HqStore, cfg: AlertConfig, kind: str, subject: str, now_ms: int, *,
                box: str = "", store_id: str = "", detail: Mapping[str, Any] | None = None
                ) -> int | None:
    """Raise an alert of `kind` for `subject` unless one is open (a latched kind: unless one
    was ever raised) or the kind is disabled; the new alert's id, or None."""
    _known(kind)
    if not cfg.enabled or kind not in cfg.kinds:
        return None
    return store.alert_raise(kind, subject, box, store_id, detail or {}, now_ms, targets(cfg),
                             once_ever=kind in LATCHED)


def clear_alert(store: HqStore, cfg: AlertConfig, kind: str, subject: str, now_ms: int
                ) -> int | None:
    """Clear the open alert of `kind` for `subject`; its id, or None if none was open."""
    _known(kind)
    return store.alert_clear(kind, subject, now_ms, targets(cfg))


def apply(store: HqStore, cfg: AlertConfig, p: Plan, now_ms: int) -> tuple[list[int], list[int]]:
    """Apply a round's plan; the ids raised and cleared by this worker (another worker may
    have been first with some)."""
    raised = [i for c in p.raise_ if (i := _raise(store, cfg, c, now_ms)) is not None]
    cleared = [i for k in p.clear if (i := clear_alert(store, cfg, k[0], k[1], now_ms))
               is not None]
    return raised, cleared


def _raise(store: HqStore, cfg: AlertConfig, c: Condition, now_ms: int) -> int | None:
    return raise_alert(store, cfg, c.kind, c.subject, now_ms, box=c.box, store_id=c.store,
                       detail=c.detail)
