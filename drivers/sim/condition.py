"""The settable condition shared by the simulated printers: state, slowness, disconnection."""

from __future__ import annotations

from drivers import InvalidInput


class SimCondition:
    """State handling of a simulated printer; subclasses set STATES and NOT_READY."""

    STATES: tuple[str, ...] = ("ok", "disconnected", "slow")
    NOT_READY: tuple[str, ...] = ()

    def __init__(self, state: str, slow_delay: float, slow_read_pause: float) -> None:
        self.slow_delay = slow_delay
        self.slow_read_pause = slow_read_pause
        self._state = "ok"
        self.state = state

    @property
    def state(self) -> str:
        """The simulated condition, one of STATES."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        if value not in self.STATES:
            raise InvalidInput("state", f"must be one of {', '.join(self.STATES)}")
        self._state = value

    @property
    def connected(self) -> bool:
        """False while 'disconnected'."""
        return self._state != "disconnected"

    @property
    def reply_delay(self) -> float:
        """slow_delay while 'slow', else 0."""
        return self.slow_delay if self._state == "slow" else 0.0

    @property
    def read_pause(self) -> float:
        """Seconds the shell waits between reads (slow acceptance): 0 unless 'slow'."""
        return self.slow_read_pause if self._state == "slow" else 0.0

    @property
    def ready(self) -> bool:
        """Whether print data sent now would be printed."""
        return self._state not in self.NOT_READY
