"""The HQ service: ingest, verification, dispatch, monitoring."""


class HqError(Exception):
    """Root of every error raised by the hq package."""
