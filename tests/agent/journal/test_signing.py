"""Group-commit signing on helper threads: every signature in its place, by the right key, even
when one batch holds a key rotation and a day close — on a real SQLite journal."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.signing import PARALLEL_MIN, BatchSigner
from agent.journal.store import JournalStore, read_rows
from sync.journal.record import Entry
from sync.journal.vectors import lines, sale
from tests.agent.journal.gated_clock import Clock
from tests.agent.journal.test_store import verify_db


@pytest.mark.parametrize("helpers", [0, 1, 3])
@pytest.mark.parametrize("n", [0, 1, PARALLEL_MIN - 1, PARALLEL_MIN, PARALLEL_MIN + 1, 41])
def test_a_batch_is_signed_in_order_by_each_items_key(helpers: int, n: int) -> None:
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    items = [(keys[i * 7 // max(n, 1) % 3], f"第{i}条 statement".encode()) for i in range(n)]
    signer = BatchSigner(helpers)
    try:
        for _ in range(2):  # the helper threads are reused by the next batch
            sigs = signer.sign(items)
            assert len(sigs) == n
            for (key, message), sig in zip(items, sigs, strict=True):
                key.public_key().verify(sig, message)
            if n > 1:
                with pytest.raises(InvalidSignature):
                    items[0][0].public_key().verify(sigs[1], items[0][1])
    finally:
        signer.close()


def test_the_helpers_share_a_large_batch() -> None:
    key = Ed25519PrivateKey.generate()
    signer = BatchSigner(1)
    seen: set[str] = set()

    class Spy:
        def sign(self, message: bytes) -> bytes:
            seen.add(threading.current_thread().name.split("_")[0])
            return key.sign(message)

    try:
        for _ in range(50):  # the helper must take some records of at least one batch
            signer.sign([(Spy(), bytes([i])) for i in range(40)])  # type: ignore[misc]
            if len(seen) == 2:
                break
    finally:
        signer.close()
    assert seen == {threading.current_thread().name.split("_")[0], "journal-sign"}


async def _until(condition: Any) -> None:
    for _ in range(4000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_one_batch_with_a_rotation_and_a_day_close(tmp_path: Path) -> None:
    clock = Clock()
    store = JournalStore.open(tmp_path / "j.db", tmp_path / "k" / "j.key", boot="boot-1",
                              genesis={"store": "CQ-JB-001"}, wall=clock.wall, mono=clock.mono)
    try:
        old = store.head.key
        clock.gate.clear()  # hold the writer in a first batch, so that the rest queue up
        first = asyncio.create_task(store.append("sale", sale("XS-0", lines(("JC-1001", 1)),
                                                              ("cash", 850))))
        await _until(clock.held.is_set)
        before = [asyncio.create_task(store.append(
            "sale", sale(f"XS-{i}", lines(("JC-1001", i)), ("wechat", 850 * i))))
            for i in range(1, 2 * PARALLEL_MIN)]
        await _until(lambda: store.pending >= len(before))
        rotation = asyncio.create_task(store.rotate_key("年度密钥轮换"))
        await _until(lambda: store.pending >= len(before) + 1)
        closing = asyncio.create_task(store.day_close("2026-11-29", cashier="C001"))
        after = [asyncio.create_task(store.append(
            "audit", {"event": "receipt.reprint", "actor": "C001", "detail": f"补打 {i}"}))
            for i in range(2 * PARALLEL_MIN)]
        await _until(lambda: store.pending >= len(before) + len(after) + 2)
        commits = store.commits
        clock.gate.set()
        done = await asyncio.gather(first, *before, rotation)
        closed, checkpoint = await closing
        later = await asyncio.gather(*after)
        assert store.commits - commits <= 2
        seqs = [a.seq for a in done] + [closed.seq] + [a.seq for a in later]
        assert seqs == list(range(1, len(seqs) + 1))  # in the order they were asked for
        assert rotation.result().entry.record()["key"] == old  # the old key signs the rotation
        new = store.head.key
        assert new != old
        assert {closed.entry.record()["key"], *(a.entry.record()["key"] for a in later)} == {new}
        assert (checkpoint.checkpoint.size, checkpoint.checkpoint.head) == (closed.seq + 1,
                                                                             closed.hash)
        stored = {Entry(raw, b"", b"").record()["seq"]: sig
                  for raw, sig, _ in read_rows(tmp_path / "j.db")}
        assert all(stored[a.seq] == a.entry.sig for a in [*done, closed, *later])
    finally:
        clock.gate.set()
        store.close()
    assert verify_db(tmp_path / "j.db") == ("valid", len(seqs) + 1)
