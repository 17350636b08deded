"""Whether a failure is a full disk (SQLite's SQLITE_FULL, ENOSPC), however it was wrapped."""

from __future__ import annotations

import errno
import sqlite3

SQLITE_FULL = 13


def disk_full(e: BaseException) -> bool:
    """True if `e` or what caused it (its chain of causes) is a full disk."""
    seen: BaseException | None = e
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, sqlite3.Error) and getattr(seen, "sqlite_errorcode", None) \
                == SQLITE_FULL:
            return True
        text = str(seen)
        if "disk is full" in text or "No space left" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
