"""The signed journal format shared by box and HQ: canonical records, hashes, signatures, totals,
checkpoints and receipt codes (specified in docs/journal.md)."""

from __future__ import annotations

from sync import SyncError


class JournalError(SyncError):
    """Root of every error raised by the journal format code."""


class RecordError(JournalError):
    """A record, body or encoded value is invalid; `field` is its dotted path (`body.lines[1].qty`).

    `code` is the verification failure code of docs/journal.md §9.5 that this error amounts to.
    """

    def __init__(self, field: str, reason: str, code: str = "body") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code
