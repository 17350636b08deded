"""Jittered exponential back-off for reconnects and retries (pure: the random draw is passed in)."""

from __future__ import annotations

__all__ = ["MAX_DOUBLINGS", "backoff_delay"]

MAX_DOUBLINGS = 30
"""The step stops doubling here: far past any cap, and 2**attempt stays a small float."""


def backoff_delay(attempt: int, base_s: float, cap_s: float, unit: float) -> float:
    """Equal jitter: step = min(cap_s, base_s · 2^attempt); the delay is step/2 + unit · step/2,
    so `unit`, a random draw in [0, 1], places it in [step/2, step]."""
    step = min(cap_s, base_s * 2.0 ** min(attempt, MAX_DOUBLINGS))
    return step / 2 + unit * (step / 2)
