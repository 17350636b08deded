"""The workshop station: production tasks, splits and flow cards, handovers by scanning."""

from __future__ import annotations

from agent.sales import SalesError


class UnknownTaskError(SalesError):
    """No such production task or part (404)."""

    status = 404


class RuleRefusedError(SalesError):
    """A handover request that breaks a workshop rule (409): the reason in Chinese."""

    status = 409
