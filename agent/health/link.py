"""The state of the box's link to HQ's broker, and the one log line per change (pure: `now`
is passed in; the uplink feeds it and logs what it returns)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from agent.health.explain import link_error_zh

LABEL_ZH = {"connecting": "连接中", "connected": "已连接", "down": "断开"}


class LinkState(StrEnum):
    """connecting: never connected since start; connected; down: lost or never reached."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DOWN = "down"


@dataclass(frozen=True)
class LinkSnapshot:
    """What /v1/health and the status page show of the link."""

    broker: str
    state: LinkState
    since_ms: int
    last_error: str | None = None
    """The raw error (technicians only)."""
    failures: int = 0

    @property
    def error_zh(self) -> str | None:
        """The last error as staff read it."""
        return link_error_zh(self.last_error) if self.last_error else None

    def to_obj(self) -> dict[str, object]:
        """As the API shows it."""
        return {"broker": self.broker, "state": self.state.value,
                "label": LABEL_ZH[self.state.value], "since_ms": self.since_ms,
                "last_error": self.error_zh, "detail": self.last_error,
                "failures": self.failures}


class LinkMonitor:
    """Tracks the link; `connected`/`failed` return a log line only when the state changes, so
    a box that never reaches its broker says so once, and once again when it recovers."""

    def __init__(self, broker: str, now_ms: int) -> None:
        self._snap = LinkSnapshot(broker, LinkState.CONNECTING, now_ms)

    def snapshot(self) -> LinkSnapshot:
        """The current state."""
        return self._snap

    def connected(self, now_ms: int) -> str | None:
        """The broker accepted us; the 'link up' line unless we were already up."""
        old = self._snap
        if old.state is LinkState.CONNECTED:
            return None
        self._snap = replace(old, state=LinkState.CONNECTED, since_ms=now_ms, failures=0)
        if old.state is LinkState.CONNECTING:
            return f"HQ 链路已连接 / HQ link up: broker {old.broker}"
        down_s = max(0, now_ms - old.since_ms) // 1000
        return (f"HQ 链路已恢复 / HQ link up again: broker {old.broker} after {down_s} s down "
                f"({old.failures} failed attempt(s))")

    def failed(self, reason: str, now_ms: int) -> str | None:
        """A connection ended or could not be made; the 'link down' line on the first one."""
        old = self._snap
        self._snap = replace(old, state=LinkState.DOWN, last_error=reason,
                             failures=old.failures + 1,
                             since_ms=old.since_ms if old.state is LinkState.DOWN else now_ms)
        if old.state is LinkState.DOWN:
            return None
        zh = link_error_zh(reason)
        if old.state is LinkState.CONNECTING:
            return (f"HQ 链路无法建立 / HQ link down: cannot reach broker {old.broker} — "
                    f"{zh} ({reason}); retrying in the background")
        return f"HQ 链路断开 / HQ link down: broker {old.broker} — {zh} ({reason})"
