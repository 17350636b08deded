"""Sales, refunds, voids, day close, handovers, approvals and the audit trail on the journal."""

from __future__ import annotations

from agent import AgentError


class SalesError(AgentError):
    """A request refused for a reason other than malformed input; `status` is the HTTP answer."""

    status = 500

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


class ApprovalError(SalesError):
    """A sensitive operation lacks a valid supervisor approval (403, field `approval`)."""

    status = 403


class ConflictError(SalesError):
    """The request contradicts what is already recorded (409): a reused key, a closed day."""

    status = 409


class UnavailableError(SalesError):
    """The journal is disabled or closed (503)."""

    status = 503
