"""The alerts part of the store contract, on every backend: one open alert per (kind, subject)
even when raised concurrently (two stores on one database), deliveries queued in the same
transaction and leased to one worker."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from hq.store import HqStore
from hq.store.postgres import PostgresStore
from hq.store.sqlite import SqliteStore
from tests.hq.store.test_contract import store

__all__ = ["store"]
TARGETS = ("mqtt", "webhook:wecom")
DETAIL = {"since_ms": 5, "reason": "掉线"}


def test_an_alert_is_raised_once_cleared_once_and_raised_again(store: HqStore) -> None:
    first = store.alert_raise("box_offline", "BOX-A", "BOX-A", "上海一店", DETAIL, 10, TARGETS)
    assert first is not None
    assert store.alert_raise("box_offline", "BOX-A", "BOX-A", "上海一店", DETAIL, 11,
                             TARGETS) is None
    [a] = store.alerts_open()
    assert (a.id, a.kind, a.subject, a.store, a.raised_ms, a.cleared_ms, a.detail) == (
        first, "box_offline", "BOX-A", "上海一店", 10, None, DETAIL)
    assert [(o.event, o.target) for o in store.outbox_of(first)] == [
        ("raised", "mqtt"), ("raised", "webhook:wecom")]
    assert store.alert_clear("box_offline", "BOX-A", 20, TARGETS) == first
    assert store.alert_clear("box_offline", "BOX-A", 21, TARGETS) is None
    assert store.alerts_open() == []
    assert [(o.event, o.target) for o in store.outbox_of(first)][2:] == [
        ("cleared", "mqtt"), ("cleared", "webhook:wecom")]
    second = store.alert_raise("box_offline", "BOX-A", "BOX-A", "上海一店", DETAIL, 30, TARGETS)
    assert second is not None and second != first
    assert [a.id for a in store.alerts_recent(0, 10)] == [second, first]
    assert [a.id for a in store.alerts_recent(25, 10)] == [second]


def test_a_latched_kind_is_raised_once_ever(store: HqStore) -> None:
    assert store.alert_raise("journal_fork", "BOX-A#3", "BOX-A", "", {}, 1, TARGETS,
                             once_ever=True) is not None
    assert store.alert_clear("journal_fork", "BOX-A#3", 2, TARGETS) is not None
    assert store.alert_raise("journal_fork", "BOX-A#3", "BOX-A", "", {}, 3, TARGETS,
                             once_ever=True) is None
    assert store.alert_keys(["journal_fork", "box_offline"]) == {("journal_fork", "BOX-A#3")}


def test_an_ack_is_recorded_once_with_who(store: HqStore) -> None:
    i = store.alert_raise("sync_lag", "BOX-A", "BOX-A", "", {}, 1, ())
    assert i is not None
    assert store.alert_ack(i, "运维小李", 5)
    assert not store.alert_ack(i, "an", 6)
    assert not store.alert_ack(i + 100, "an", 6)
    a = store.alert(i)
    assert a is not None and (a.acked_by, a.acked_ms) == ("运维小李", 5)


def test_a_delivery_is_leased_to_one_worker_and_retried_until_given_up(store: HqStore) -> None:
    i = store.alert_raise("box_offline", "BOX-A", "BOX-A", "", {}, 10, ("mqtt",))
    assert i is not None
    [row] = store.outbox_due(10, 10)
    assert store.outbox_lease(row.id, "w1", 10, 100)
    assert not store.outbox_lease(row.id, "w2", 50, 200)
    assert store.outbox_due(50, 10) == []
    store.outbox_failed(row.id, "w1", 60, 500, "HTTP 500")
    assert store.outbox_due(499, 10) == []
    [again] = store.outbox_due(500, 10)
    assert (again.attempts, again.last_error) == (1, "HTTP 500")
    assert store.outbox_lease(row.id, "w2", 500, 600)
    assert not store.outbox_done(row.id, "w1", 510)  # w1's lease was taken over
    store.outbox_failed(row.id, "w2", 520, None, "errcode 310000: sign not match")
    assert store.outbox_due(10**12, 10) == []
    [gone] = store.outbox_of(i)
    assert (gone.attempts, gone.failed_ms, gone.delivered_ms) == (2, 520, None)


def test_a_lapsed_lease_is_taken_over_and_delivered_once(store: HqStore) -> None:
    i = store.alert_raise("box_offline", "BOX-A", "BOX-A", "", {}, 10, ("mqtt",))
    assert i is not None
    [row] = store.outbox_due(10, 10)
    assert store.outbox_lease(row.id, "w1", 10, 100)
    assert store.outbox_lease(row.id, "w2", 100, 200)
    assert store.outbox_done(row.id, "w2", 150)
    assert not store.outbox_done(row.id, "w1", 160)
    assert store.outbox_due(10**12, 10) == []
    assert not store.outbox_lease(row.id, "w3", 10**12, 10**12 + 1)


def test_a_clear_is_due_only_after_its_raise_reached_the_target(store: HqStore) -> None:
    i = store.alert_raise("box_offline", "BOX-A", "BOX-A", "", {}, 10, TARGETS)
    assert i is not None and store.alert_clear("box_offline", "BOX-A", 20, TARGETS) == i
    due = store.outbox_due(30, 10)
    assert [(o.event, o.target) for o in due] == [("raised", "mqtt"), ("raised", "webhook:wecom")]
    assert store.outbox_lease(due[0].id, "w1", 30, 100)
    assert store.outbox_done(due[0].id, "w1", 40)
    assert store.outbox_lease(due[1].id, "w1", 40, 100)
    store.outbox_failed(due[1].id, "w1", 50, None, "HTTP 404")
    assert [(o.event, o.target) for o in store.outbox_due(60, 10)] == [
        ("cleared", "mqtt"), ("cleared", "webhook:wecom")]


def test_journal_marks_name_sizes_last_receipts_and_journal_alarms(store: HqStore) -> None:
    from tests.hq.store.test_contract import entry

    assert store.journal_append("BOX-A", "log1", 0, [entry(0), entry(1)], {}, 77)
    store.add_alarm("BOX-A", "gap", 9, "缺号", {}, 80)
    store.add_alarm("BOX-A", "invalid", 2, "坏签名", {}, 81)
    sizes, received, alarms = store.alert_marks()
    assert (sizes, received) == ({"BOX-A": 2}, {"BOX-A": 77})
    assert alarms == [{"box": "BOX-A", "kind": "gap", "seq": 9, "reason": "缺号", "at_ms": 80}]


SHARED: dict[str, Callable[[pytest.FixtureRequest], tuple[HqStore, HqStore]]] = {
    "sqlite": lambda rq: (SqliteStore(rq.getfixturevalue("tmp_path") / "hq.db"),
                          SqliteStore(rq.getfixturevalue("tmp_path") / "hq.db")),
    "postgres": lambda rq: (PostgresStore(url := rq.getfixturevalue("pg_url")),
                            PostgresStore(url)),
}


@pytest.mark.parametrize("backend", sorted(SHARED))
def test_two_workers_raising_at_once_open_one_alert_and_queue_once(
        backend: str, request: pytest.FixtureRequest) -> None:
    a, b = SHARED[backend](request)
    try:
        for rnd in range(10):
            barrier = threading.Barrier(8)
            won: list[int | None] = []

            def attempt(s: HqStore, rnd: int = rnd, barrier: threading.Barrier = barrier,
                        won: list[int | None] = won) -> None:
                barrier.wait()
                won.append(s.alert_raise("printer_paper_out", "BOX-A/front", "BOX-A", "一店",
                                         {"round": rnd}, 1000 + rnd, TARGETS))

            threads = [threading.Thread(target=attempt, args=(s,)) for s in (a, b) * 4]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ids = [i for i in won if i is not None]
            assert len(ids) == 1, won
            assert len(b.alerts_open()) == 1
            assert [o.event for o in a.outbox_of(ids[0])] == ["raised", "raised"]
            assert a.alert_clear("printer_paper_out", "BOX-A/front", 2000 + rnd, TARGETS) \
                == ids[0]
        assert len(a.alerts_recent(0, 100)) == 10
    finally:
        a.close()
        b.close()
