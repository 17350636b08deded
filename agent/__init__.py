"""The box: daemon, configuration, printing, devices, sales and journal, uplink, local API, CLI."""

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_TOO_LARGE = 0, 1, 2, 3
"""Exit codes of every `storelink` command: done, failed, bad input (usage or config), and a
print job over what a job may cost (docs/print-jobs.md)."""


class AgentError(Exception):
    """Root of every error raised by the agent package."""
