"""Adopting boxes: pairing requests, adoption by code, the CA's certificate, the pinned key."""

from hq import HqError


class PairingError(HqError):
    """A pairing request or adoption was refused: HTTP `status`, dotted `field`, `reason`."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason
