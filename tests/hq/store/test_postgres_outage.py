"""PostgreSQL going away and coming back: the store answers with StoreError while it is down
(never hangs, never half-writes) and works again once it is back, without a restart of HQ."""

from __future__ import annotations

import pytest

from hq.store import StoredEntry, StoreError
from hq.store.postgres import PostgresStore
from tests.e2e.postgres import throwaway_cluster


def entry(seq: int) -> StoredEntry:
    return StoredEntry(seq, f'{{"seq":{seq},"text":"收银"}}'.encode(), bytes([seq]) * 32,
                       bytes([seq]) * 64)


def test_the_store_fails_cleanly_while_postgresql_is_down_and_recovers() -> None:
    with throwaway_cluster() as cluster:
        store = PostgresStore(cluster.new_database(), pool_size=3, timeout_s=2)
        try:
            assert store.journal_append("BOX-A", "log1", 0, [entry(0)], {"size": 1}, 1)
            cluster.stop()
            cluster.start()  # a restart between two calls: the next call still succeeds
            head = store.journal_head("BOX-A")
            assert head is not None and head.size == 1
            cluster.stop()
            with pytest.raises(StoreError, match=r"PostgreSQL at 127\.0\.0\.1"):
                store.journal_append("BOX-A", "log1", 1, [entry(1)], {"size": 2}, 2)
            with pytest.raises(StoreError):
                store.journal_head("BOX-A")
            cluster.start()
            head = store.journal_head("BOX-A")
            assert head is not None and head.size == 1
            assert store.journal_append("BOX-A", "log1", 1, [entry(1)], {"size": 2}, 3)
            assert [e.seq for e in store.journal_entries("BOX-A", 0, 9)] == [0, 1]
        finally:
            store.close()
