"""HQ's own link to the broker, and what it means for how boxes are shown (pure: `now` is
passed in). While HQ cannot hear the broker, no box's state is known (未知); a Will learnt just
after HQ's link came back is the broker's account of the outage, not yet a box's death."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sync.link_text import link_error_zh
from sync.protocol.birth import DEFAULT_KEEPALIVE_S, will_window_ms

LABEL_ZH = {"connecting": "连接中", "connected": "已连接", "down": "断开"}
PEER = "MQTT 服务器"


@dataclass(frozen=True)
class HqLinkSnapshot:
    """`up_since_ms`: when the current connection began (None while not connected)."""

    broker: str
    state: str
    since_ms: int
    last_error: str | None = None
    up_since_ms: int | None = None

    def to_obj(self) -> dict[str, object]:
        """As GET /v1/boxes shows it (`hq_link`)."""
        return {"broker": self.broker, "state": self.state, "label": LABEL_ZH[self.state],
                "since_ms": self.since_ms,
                "last_error": link_error_zh(self.last_error, PEER) if self.last_error else None,
                "detail": self.last_error}


class HqLink:
    """Tracks HQ's broker link; `connected`/`failed` return a log line only on a change."""

    def __init__(self, broker: str, now_ms: int) -> None:
        self._snap = HqLinkSnapshot(broker, "connecting", now_ms)

    def snapshot(self) -> HqLinkSnapshot:
        """The current state."""
        return self._snap

    def connected(self, now_ms: int) -> str | None:
        """The broker accepted HQ; the 'link up' line unless already up."""
        old = self._snap
        if old.state == "connected":
            return None
        self._snap = replace(old, state="connected", since_ms=now_ms, up_since_ms=now_ms)
        return f"HQ 与 MQTT 服务器已连接 / HQ broker link up: {old.broker}"

    def failed(self, reason: str, now_ms: int) -> str | None:
        """A connection ended or could not be made; the 'link down' line on the first one."""
        old = self._snap
        self._snap = replace(old, state="down", last_error=reason, up_since_ms=None,
                             since_ms=old.since_ms if old.state == "down" else now_ms)
        if old.state == "down":
            return None
        return (f"HQ 与 MQTT 服务器断开 / HQ broker link down: {old.broker} — "
                f"{link_error_zh(reason, PEER)} ({reason}); boxes show 未知 until it is back")


def never_seen(box: str) -> dict[str, Any]:
    """The view of a configured box HQ never heard from (从未上线)."""
    return {"id": box, "online": False, "presence": "never", "keepalive_s": DEFAULT_KEEPALIVE_S,
            "link_lost_ms": None, "bdseq": -1, "since_ms": 0, "offline_reason": "",
            "last_seen_ms": 0, "version": None, "store": None, "name": None, "devices": [],
            "queues": {}, "journal": {}, "sync_lag": 0, "uptime_s": None,
            "disk_free_bytes": None, "temperature_mc": None, "telemetry_gaps": 0}


def presence_at_hq(view: dict[str, Any], hq: HqLinkSnapshot | None, now_ms: int,
                   telemetry_interval_s: int = 30) -> str:
    """The presence to show: `unknown` while HQ's link is not up, and for a Will ("lost")
    learnt soon after HQ's link came up (the broker's account of an outage), until the box
    had time to come back and did not."""
    if view["presence"] == "never" or hq is None:
        return str(view["presence"])
    if hq.state != "connected" or hq.up_since_ms is None:
        return "unknown"
    if view["presence"] == "offline" and view["offline_reason"] == "lost":
        grace = telemetry_interval_s * 1000 + will_window_ms(int(view["keepalive_s"]))[1]
        learnt = int(view["since_ms"])
        if hq.up_since_ms <= learnt < hq.up_since_ms + grace and now_ms < learnt + grace:
            return "unknown"
    return str(view["presence"])


def fleet_view(boxes: list[dict[str, Any]], configured: tuple[str, ...],
               hq: HqLinkSnapshot | None, now_ms: int) -> list[dict[str, Any]]:
    """Every configured box (from births or never seen) and every other known box, by id,
    each with the presence HQ can stand behind."""
    known = {b["id"]: b for b in boxes}
    out = [dict(known.get(box) or never_seen(box)) for box in configured]
    out += [dict(b) for b in boxes if b["id"] not in configured]
    for b in out:
        b["presence"] = presence_at_hq(b, hq, now_ms)
    return sorted(out, key=lambda b: str(b["id"]))
