"""Which store a worker opens: an SQLite file for a path, PostgreSQL for a `postgresql://` URL."""

from __future__ import annotations

from pathlib import Path

from hq.store import HqStore, StoreError
from hq.store.sqlite import SqliteStore


def open_store(target: Path | str) -> HqStore:
    """Open (creating or migrating) the store `target` names: a Path is an SQLite file, a str
    a PostgreSQL connection URL; StoreError if it cannot, SchemaTooNew if a newer HQ migrated
    it."""
    if isinstance(target, Path):
        return SqliteStore(target)
    try:
        from hq.store.postgres import PostgresStore
    except ImportError as e:
        raise StoreError(f"hq.db names a PostgreSQL database but its driver is missing ({e}): "
                         "install storelink[postgres]") from None
    return PostgresStore(target)
