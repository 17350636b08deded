"""What the box and HQ must agree on: journal format, checkpoints, MQTT protocol; imports nothing of ours."""


class SyncError(Exception):
    """Root of every error raised by the sync package."""
