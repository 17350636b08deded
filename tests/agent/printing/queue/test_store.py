"""The SQLite job store on real files: dedupe, FIFO claims, expiry, recovery, pruning, history."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.printing.jobs import PrintJob, parse_job
from agent.printing.queue import lifecycle as lc
from agent.printing.queue.lifecycle import Action, IllegalTransitionError, JobState, Reason
from agent.printing.queue.store import JobConflictError, JobNotFoundError, Store, StoreError
from tests.agent.conftest import document_job, raw_job

T0 = 1_800_000_000_000
LATER = T0 + 900_000


def job(job_id: str, printer: str = "front", text: str = "", copies: int = 1) -> PrintJob:
    return parse_job(raw_job(job_id, printer, text, copies=copies))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await asyncio.to_thread(Store.open, tmp_path / "queue.db")
    yield s
    await s.close()


async def test_database_is_wal_with_full_sync(store: Store, tmp_path: Path) -> None:
    mode = sqlite3.connect(tmp_path / "queue.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    sync = await store._call(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    assert sync == 2  # FULL


async def test_a_second_store_on_the_same_file_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="in use by another"):
        Store.open(tmp_path / "queue.db")
    await store.close()
    again = Store.open(tmp_path / "queue.db")
    await again.close()


async def test_same_id_same_body_returns_the_first_submission(store: Store) -> None:
    first = await store.submit(job("a-1"), T0, LATER)
    again = await store.submit(job("a-1"), T0 + 5000, LATER + 5000)
    assert first.created and not again.created
    assert again.job == first.job
    assert len(await store.history("a-1")) == 1


async def test_same_id_different_body_is_a_conflict_and_changes_nothing(store: Store) -> None:
    await store.submit(job("a-1"), T0, LATER)
    with pytest.raises(JobConflictError) as e:
        await store.submit(job("a-1", text="别的内容"), T0, LATER)
    assert e.value.job.id == "a-1" and e.value.job.version == 1
    with pytest.raises(JobConflictError):
        await store.submit(job("a-1", printer="warehouse"), T0, LATER)
    assert [j.id for j in await store.list_jobs()] == ["a-1"]


async def test_accepted_jobs_survive_reopening(tmp_path: Path) -> None:
    s = await asyncio.to_thread(Store.open, tmp_path / "q.db")
    pj = parse_job(document_job("ord-20261129-0042-slip", "front", copies=2))
    await s.submit(pj, T0, LATER)
    await s.close()
    s2 = await asyncio.to_thread(Store.open, tmp_path / "q.db")
    try:
        got = await s2.get(pj.id)
        assert got is not None and (got.state, got.copies, got.label) == (
            JobState.QUEUED, 2, "document")
        body = await s2.body(pj.id)
        assert body is not None and parse_job(body).body_hash == pj.body_hash
        assert not (await s2.submit(pj, T0 + 1, LATER)).created
    finally:
        await s2.close()


async def test_concurrent_submissions_commit_together_and_a_refusal_undoes_only_itself(
        store: Store) -> None:
    await store.submit(job("dup"), T0, LATER)
    tasks = [store.submit(job(f"b-{i}"), T0, LATER) for i in range(50)]
    tasks.insert(25, store.submit(job("dup", text="不同"), T0, LATER))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(r, JobConflictError) for r in results) == 1
    assert len(await store.list_jobs(limit=500)) == 51


async def test_claims_are_fifo_per_printer_and_skip_overdue_jobs(store: Store) -> None:
    await store.submit(job("w-1", printer="warehouse"), T0, LATER)
    await store.submit(job("f-1"), T0, T0 + 10)
    await store.submit(job("f-2"), T0, LATER)
    await store.submit(job("f-3"), T0, LATER)
    changes, claimed = await store.claim_next("front", T0 + 10)
    assert [(c.job.id, c.action) for c in changes] == [("f-1", Action.EXPIRE),
                                                       ("f-2", Action.CLAIM)]
    assert claimed is not None and claimed.job.state is JobState.PRINTING
    assert claimed.body["id"] == "f-2"
    _, nxt = await store.claim_next("front", T0 + 11)
    assert nxt is not None and nxt.job.id == "f-3"
    _, none = await store.claim_next("front", T0 + 12)
    assert none is None
    assert (await store.depths()) == {"warehouse": 1}


async def test_an_illegal_transition_changes_nothing(store: Store) -> None:
    await store.submit(job("c-1"), T0, LATER)
    await store.claim_next("front", T0 + 1)
    with pytest.raises(IllegalTransitionError):
        await store.transition("c-1", lambda j: lc.cancel(j, T0 + 2), Action.CANCEL)
    got = await store.get("c-1")
    assert got is not None and (got.state, got.version) == (JobState.PRINTING, 2)
    with pytest.raises(JobNotFoundError):
        await store.transition("nope", lambda j: lc.cancel(j, T0 + 2), Action.CANCEL)


async def test_recover_turns_printing_into_unknown_only(store: Store) -> None:
    for i in range(3):
        await store.submit(job(f"r-{i}"), T0, LATER)
    await store.claim_next("front", T0 + 1)
    changes = await store.recover(T0 + 2)
    assert [(c.job.id, c.job.state) for c in changes] == [("r-0", JobState.UNKNOWN)]
    assert {j.id: j.state for j in await store.list_jobs()} == {
        "r-0": JobState.UNKNOWN, "r-1": JobState.QUEUED, "r-2": JobState.QUEUED}


async def test_prune_forgets_only_settled_jobs_past_retention(store: Store) -> None:
    await store.submit(job("old-printed"), T0, LATER)
    await store.claim_next("front", T0 + 1)
    await store.transition("old-printed", lambda j: lc.copy_printed(j, T0 + 2),
                           Action.COPY_PRINTED)
    await store.submit(job("old-unknown"), T0, LATER)
    await store.claim_next("front", T0 + 3)
    await store.recover(T0 + 4)
    await store.submit(job("old-queued", printer="warehouse"), T0, T0 + 10**12)
    await store.submit(job("new-printed"), T0 + 100, LATER)
    await store.claim_next("front", T0 + 101)
    await store.transition("new-printed", lambda j: lc.copy_printed(j, T0 + 200),
                           Action.COPY_PRINTED)
    assert await store.prune(T0 + 150) == 1
    assert {j.id for j in await store.list_jobs()} == {"old-unknown", "old-queued",
                                                       "new-printed"}
    assert await store.history("old-printed") == []


async def test_history_has_every_version_in_order(store: Store) -> None:
    await store.submit(job("h-1", copies=2), T0, LATER)
    await store.claim_next("front", T0 + 1)
    await store.transition("h-1", lambda j: lc.copy_printed(j, T0 + 2), Action.COPY_PRINTED)
    await store.transition("h-1", lambda j: lc.confirm_failed(j, T0 + 3, Reason.PAPER_OUT),
                           Action.FAIL)
    hist = await store.history("h-1")
    assert [(e.version, e.state, e.action, e.copies_done) for e in hist] == [
        (1, JobState.QUEUED, Action.SUBMIT, 0), (2, JobState.PRINTING, Action.CLAIM, 0),
        (3, JobState.PRINTING, Action.COPY_PRINTED, 1), (4, JobState.FAILED, Action.FAIL, 1)]
    assert hist[-1].reason is Reason.PAPER_OUT
    assert [e.seq for e in await store.history(after_seq=hist[1].seq)] == [
        e.seq for e in hist[2:]]


async def test_list_filters_and_pages_newest_first(store: Store) -> None:
    for i in range(5):
        await store.submit(job(f"l-{i}", printer="front" if i % 2 else "warehouse"), T0, LATER)
    page = await store.list_jobs(limit=2)
    assert [j.id for j in page] == ["l-4", "l-3"]
    rest = await store.list_jobs(limit=10, before_seq=page[-1].seq)
    assert [j.id for j in rest] == ["l-2", "l-1", "l-0"]
    assert [j.id for j in await store.list_jobs(printer="front")] == ["l-3", "l-1"]
    assert await store.list_jobs(states=[JobState.PRINTED]) == []
    assert (await store.counts()) == {"queued": 5}
