"""Customers and customer orders at HQ, pushed by an ERP or imported from files, and the phone
page that prints a picking list or sales slip of one to a warehouse printer (docs/hq.md)."""

from __future__ import annotations

from hq import HqError


class OrderError(HqError):
    """An order, customer or print request was refused: `field` is the dotted path at fault and
    `status` the HTTP status it answers with."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status
