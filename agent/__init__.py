"""The box: daemon, configuration, printing, devices, sales and journal, uplink, local API, CLI."""

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
"""Exit codes of every `storelink` command: done, failed, bad input (usage or config)."""


class AgentError(Exception):
    """Root of every error raised by the agent package."""
