"""What the box and HQ agree on: journal format, checkpoints, MQTT protocol."""


class SyncError(Exception):
    """Root of every error raised by the sync package."""
