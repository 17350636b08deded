"""The contract between a simulated device's pure model and the TCP / pty shells that host it."""

from __future__ import annotations

from typing import Protocol


class DeviceModel(Protocol):
    """A byte-level device: consumes host bytes, returns the bytes it answers (often b"")."""

    @property
    def connected(self) -> bool:
        """False makes the shell refuse or drop connections (an unplugged or dead device)."""
        ...

    @property
    def reply_delay(self) -> float:
        """Seconds the shell waits before sending a reply (a slow device)."""
        ...

    def receive(self, data: bytes) -> bytes:
        """Consume `data` from the host; return the reply bytes (b"" for none)."""
        ...

    def end_of_stream(self) -> None:
        """The host closed its connection; a model may close off the job it was receiving."""
        ...
