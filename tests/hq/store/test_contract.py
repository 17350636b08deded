"""The store contract every HQ backend passes: the same tests run against each implementation."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from hq.store import HqStore, JobRow, StoredEntry
from hq.store.postgres import PostgresStore
from hq.store.schema import LATEST
from hq.store.sqlite import SqliteStore
from sync.protocol.messages import CommandEvent, Event, IntakeEvent, JobEvent

BACKENDS: dict[str, Callable[[pytest.FixtureRequest], HqStore]] = {
    "sqlite": lambda rq: SqliteStore(rq.getfixturevalue("tmp_path") / "hq.db"),
    "postgres": lambda rq: PostgresStore(rq.getfixturevalue("pg_url")),
}
"""Each backend makes a fresh, empty store (a file in tmp_path, a new database of the session's
PostgreSQL cluster)."""


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest) -> Iterator[HqStore]:
    s = BACKENDS[request.param](request)
    yield s
    s.close()


def test_a_new_store_is_at_the_latest_schema(store: HqStore) -> None:
    assert store.schema_version() == LATEST


def entry(seq: int) -> StoredEntry:
    return StoredEntry(seq, f'{{"seq":{seq},"text":"收银"}}'.encode(), bytes([seq]) * 32,
                       bytes([seq]) * 64)


def job(job_id: str, box: str = "BOX-A", created: int = 1, expires: int = 10_000) -> JobRow:
    return JobRow(job_id, box, "front", {"template": "receipt", "data": {"title": "小票"}},
                  "h-" + job_id, expires, created)


def test_journal_appends_only_at_the_expected_size(store: HqStore) -> None:
    assert store.journal_head("BOX-A") is None
    assert store.journal_append("BOX-A", "log1", 0, [entry(0), entry(1)], {"size": 2}, 5)
    assert not store.journal_append("BOX-A", "log1", 0, [entry(0)], {"size": 1}, 6)
    assert store.journal_append("BOX-A", "log1", 2, [entry(2)], {"size": 3}, 7)
    head = store.journal_head("BOX-A")
    assert head is not None
    assert (head.log, head.size, head.head, head.cosignature) == ("log1", 3, entry(2).hash,
                                                                 {"size": 3})
    assert [e.seq for e in store.journal_entries("BOX-A", 1, 3)] == [1, 2]
    assert store.journal_entries("BOX-A", 0, 1) == [entry(0)]
    assert store.journal_head("BOX-B") is None


def test_concurrent_appends_at_one_size_store_exactly_one(store: HqStore) -> None:
    store.journal_append("BOX-A", "log1", 0, [entry(0)], {}, 1)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        wins.append(store.journal_append("BOX-A", "log1", 1, [entry(1)], {}, 2))

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    assert [e.seq for e in store.journal_entries("BOX-A", 0, 10)] == [0, 1]


def test_an_alarm_is_raised_once_and_listed_newest_first(store: HqStore) -> None:
    assert store.add_alarm("BOX-A", "fork", 3, "两个版本", {"a": 1}, 10)
    assert not store.add_alarm("BOX-A", "fork", 3, "again", {}, 11)
    assert store.add_alarm("BOX-B", "gap", 7, "缺号", {}, 12)
    all_alarms = store.alarms()
    assert [(a["box"], a["kind"], a["seq"]) for a in all_alarms] == [("BOX-B", "gap", 7),
                                                                     ("BOX-A", "fork", 3)]
    assert all_alarms[1]["reason"] == "两个版本" and all_alarms[1]["evidence"] == {"a": 1}
    assert [a["box"] for a in store.alarms("BOX-A")] == ["BOX-A"]
    assert len(store.alarms(limit=1)) == 1


def test_events_apply_once_in_order_and_update_jobs_and_commands(store: HqStore) -> None:
    store.job_create(job("J1"))
    store.command_create("n1", "BOX-A", "reload_config", {}, 1, 100)
    events: list[Event] = [JobEvent(1, "J1", "front", "printing", 1, 5),
                           IntakeEvent(2, "J1", "accepted", 4),
                           JobEvent(3, "J1", "front", "printed", 2, 6),
                           CommandEvent(4, "n1", "reload_config", "done", 7)]
    assert store.event_pos("BOX-A", "s1") == 0
    assert store.apply_events("BOX-A", "s1", 0, events, 50)
    assert not store.apply_events("BOX-A", "s1", 0, events, 51)
    assert store.event_pos("BOX-A", "s1") == 4
    assert [s["state"] for s in store.job_states("J1")] == ["printing", "printed"]
    stored = store.job("J1")
    assert stored is not None and stored.intake == "accepted"
    cmd = store.command("n1")
    assert cmd is not None and cmd["result"] == "done"


def test_a_refusal_of_an_unknown_command_raises_an_alarm(store: HqStore) -> None:
    ev = CommandEvent(1, "forged", "open_drawer", "refused", 3, "bad signature")
    assert store.apply_events("BOX-A", "s1", 0, [ev], 9)
    assert [a["kind"] for a in store.alarms("BOX-A")] == ["command_refused"]


def test_a_box_text_with_nul_is_stored_not_refused(store: HqStore) -> None:
    """A NUL is valid in the protocol's free text; PostgreSQL's TEXT cannot hold it (it is
    read back as U+FFFD there), but a batch carrying one must not wedge the box's stream."""
    store.job_create(job("J1"))
    events: list[Event] = [JobEvent(1, "J1", "前台\x00", "failed", 1, 5, "缺纸\x00"),
                           IntakeEvent(2, "J\x001", "refused", 4, "bad\x00"),
                           CommandEvent(3, "n\x00", "open_drawer", "refused", 6, "签名\x00错")]
    assert store.apply_events("BOX-A", "s1", 0, events, 50)
    assert store.event_pos("BOX-A", "s1") == 3
    assert [s["reason"] for s in store.job_states("J1")] in (["缺纸\x00"], ["缺纸\ufffd"])
    assert [a["reason"] for a in store.alarms("BOX-A")] in (["签名\x00错"], ["签名\ufffd错"])
    assert [a["evidence"]["nonce"] for a in store.alarms("BOX-A")] == ["n\x00"]


def test_jobs_are_created_once_and_listed_by_state(store: HqStore) -> None:
    first, created = store.job_create(job("J1", created=1))
    again, created_again = store.job_create(job("J1", created=99))
    assert created and not created_again and again == first
    store.job_create(job("J2", created=2))
    store.job_create(job("J3", box="BOX-B", created=3, expires=5))
    assert [j.id for j in store.jobs_recent(10)] == ["J3", "J2", "J1"]
    assert [j.id for j in store.jobs_recent(10, box="BOX-B")] == ["J3"]
    assert [j.id for j in store.jobs_undispatched(now_ms=4)] == ["J1", "J2", "J3"]
    assert [j.id for j in store.jobs_undispatched(now_ms=6)] == ["J1", "J2"]
    store.job_dispatched("J1", 7)
    assert [j.id for j in store.jobs_undispatched(now_ms=6)] == ["J2"]
    store.apply_events("BOX-A", "s", 0, [IntakeEvent(1, "J2", "accepted", 8)], 8)
    assert [j.id for j in store.jobs_unanswered("BOX-A", now_ms=6)] == ["J1"]


def test_commands_and_box_states_round_trip(store: HqStore) -> None:
    store.command_create("n1", "BOX-A", "open_drawer", {"printer": "front"}, 10, 20)
    store.command_published("n1", 11)
    cmd = store.command("n1")
    assert cmd is not None and cmd["box"] == "BOX-A" and cmd["args"] == {"printer": "front"}
    assert store.command("nope") is None
    store.box_update("BOX-A", lambda st: {"online": True, "store": "重庆江北店"})
    store.box_update("BOX-A", lambda st: {**(st or {}), "online": False})
    assert store.box_state("BOX-A") == {"online": False, "store": "重庆江北店"}
    assert store.box_states() == {"BOX-A": {"online": False, "store": "重庆江北店"}}
    assert store.box_state("BOX-B") is None
