"""A/B upgrades of the box (docs/deploy.md, "Upgrades"): releases side by side under
/opt/storelink/releases, `current` switched atomically, a trial the new release must pass by
reporting healthy before a deadline, else the guard run before every start rolls back."""

from __future__ import annotations

from agent import AgentError


class UpgradeError(AgentError):
    """An upgrade refused or failed; nothing was switched (the running release stays)."""


EXIT_RESTART = 75
"""The daemon's exit code after switching to a new release: systemd restarts it (on-failure)."""
