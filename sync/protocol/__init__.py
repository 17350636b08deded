"""The MQTT protocol between a box and HQ (docs/protocol.md): topics, payload codecs, commands."""

from __future__ import annotations

from sync import SyncError


class ProtocolError(SyncError):
    """A topic or payload breaks docs/protocol.md; `field` names the bad part by dotted path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
