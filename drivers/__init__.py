"""Device protocols, transports and simulators; imports nothing else of Storelink."""


class DriverError(Exception):
    """Root of every error raised by the drivers package."""


class InvalidInput(DriverError):
    """An input value is invalid; `field` names it by its dotted path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
