"""HQ's certificate authority for the broker: CA, broker certificate, box certificates, CRL."""

from hq import HqError


class PkiError(HqError):
    """A PKI request or file was refused; `field` names what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
