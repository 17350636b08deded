"""The box's daemon, its configuration, print queue, journal store, local API and CLI."""


class AgentError(Exception):
    """Root of every error raised by the agent package."""
