"""The SQLite store: acknowledged only after COMMIT, group commit, append-only rows, keys,
rotation, clock jumps, checkpoints and HQ cosignatures — all on real SQLite files."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent import AgentError
from agent.journal.keys import KeyFileError, load_key, next_path, write_key
from agent.journal.store import JournalClosedError, JournalStore, read_rows
from sync.journal import RecordError
from sync.journal.checkpoint import cosign, note_key_hash, parse_note
from sync.journal.record import Entry, key_id, public_bytes
from sync.journal.vectors import ATTACKER, HQ, HQ_NAME, lines, sale
from sync.journal.verify import Verifier
from tests.agent.journal.gated_clock import Clock, T

COSIGNERS = {(HQ_NAME, note_key_hash(HQ_NAME, 4, public_bytes(HQ)).hex()): HQ.public_key()}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[JournalStore]:
    st = open_store(tmp_path, clock)
    yield st
    clock.gate.set()
    st.close()


def open_store(tmp_path: Path, clock: Clock, **kw: Any) -> JournalStore:
    return JournalStore.open(tmp_path / "journal.db", tmp_path / "keys" / "journal.key",
                             genesis={"store": "CQ-JB-001", "name": "重庆江北建材旗舰店"},
                             boot="boot-1", wall=clock.wall, mono=clock.mono,
                             cosigners=COSIGNERS, **kw)


def a_sale(order: str = "XS-20261129-0041", qty: int = 40) -> dict[str, Any]:
    return sale(order, lines(("JC-1001", qty)), ("wechat", 850 * qty))


def verify_db(path: Path, **kw: Any) -> tuple[Any, ...]:
    v = Verifier(**kw)
    for raw, sig, h in read_rows(path):
        if v.feed(raw, sig, h) is not None:
            break
    f = v.finish()
    return ("valid", v.size) if f is None else (f.seq, f.code)


async def test_first_open_writes_genesis_with_a_0600_key(store: JournalStore,
                                                         tmp_path: Path) -> None:
    key_path = tmp_path / "keys" / "journal.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert store.head.size == 1
    genesis = Entry(*next(iter(read_rows(tmp_path / "journal.db")))[:1], b"", b"").record()
    assert genesis["body"]["name"] == "重庆江北建材旗舰店"
    assert genesis["body"]["pubkey"] == public_bytes(load_key(key_path)).hex()
    assert genesis["key"] == store.head.key


async def test_an_append_is_committed_before_it_returns(store: JournalStore,
                                                        tmp_path: Path) -> None:
    a = await store.append("sale", a_sale())
    other = sqlite3.connect(tmp_path / "journal.db")
    row = other.execute("SELECT hash FROM journal WHERE seq = ?", (a.seq,)).fetchone()
    other.close()
    assert (a.seq, row[0]) == (1, a.hash)
    assert a.amount == 34000
    assert a.receipt_text().startswith(f"SLJ1:{store.head.log.upper()}:1:")
    b = await asyncio.to_thread(store.append_sync, "audit",
                                {"event": "drawer.open", "actor": "C001", "detail": "找零"})
    assert b.seq == 2
    assert verify_db(tmp_path / "journal.db") == ("valid", 3)


async def test_concurrent_appends_share_one_commit(store: JournalStore, clock: Clock) -> None:
    clock.gate.clear()  # the writer stops inside its first batch
    first = asyncio.create_task(store.append("sale", a_sale("XS-0")))
    for _ in range(2000):
        if clock.held.is_set():
            break
        await asyncio.sleep(0.005)
    others = [asyncio.create_task(store.append("sale", a_sale(f"XS-{i}"))) for i in range(1, 21)]
    bad = asyncio.create_task(store.append("sale", {**a_sale("XS-BAD"), "total": 1}))
    for _ in range(2000):
        if store.pending >= 21:
            break
        await asyncio.sleep(0.005)
    assert store.pending >= 21
    commits = store.commits
    clock.gate.set()
    done = await asyncio.gather(first, *others)
    with pytest.raises(RecordError) as e:
        await bad
    assert e.value.field == "body.total"
    assert sorted(a.seq for a in done) == list(range(1, 22))
    assert store.commits - commits <= 3  # 22 records, at most three fsyncs
    assert store.head.size == 22


async def test_entries_are_read_back_in_order(store: JournalStore) -> None:
    a = await store.append("sale", a_sale())
    entries = list(store.entries())
    assert [e.record()["seq"] for e in entries] == [0, 1]
    assert entries[1] == a.entry
    assert [e.hash for e in store.entries(1)] == [a.hash]


async def test_one_rotation_at_a_time(store: JournalStore) -> None:
    first = asyncio.create_task(store.rotate_key("一"))
    await asyncio.sleep(0)
    with pytest.raises(AgentError, match="already in progress"):
        await store.rotate_key("二")
    await first


async def test_bad_input_changes_nothing(store: JournalStore, tmp_path: Path) -> None:
    head = store.head
    for type_, body, field in [
        ("sale", {**a_sale(), "payments": [{"method": "bitcoin", "amount": 34000}]},
         "body.payments[0].method"),
        ("refund", {"sale_seq": 7, "order": "X", "lines": lines(("JC-1001", 1)), "total": 850,
                    "payments": [{"method": "cash", "amount": 850}], "reason": "退货"},
         "body.sale_seq"),
        ("genesis", {}, "type"), ("clock_set", {}, "type"), ("day_close", {}, "type"),
        ("sale", {**a_sale(), "note": 1.5}, "body.note"),
    ]:
        with pytest.raises(RecordError) as e:
            await store.append(type_, body)
        assert e.value.field == field
    assert store.head == head
    assert len(list(read_rows(tmp_path / "journal.db"))) == 1


async def test_rows_are_append_only(store: JournalStore, tmp_path: Path) -> None:
    await store.append("sale", a_sale())
    conn = sqlite3.connect(tmp_path / "journal.db")
    for sql in ("UPDATE journal SET record = record || ' ' WHERE seq = 1",
                "DELETE FROM journal WHERE seq = 1",
                "INSERT INTO journal SELECT seq + 5, record, hash, sig FROM journal WHERE seq = 1"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.close()


async def test_refunds_and_voids_follow_the_rules(store: JournalStore, tmp_path: Path) -> None:
    s = await store.append("sale", a_sale(qty=10))
    refund = {"sale_seq": s.seq, "order": "XS-20261129-0041", "lines": lines(("JC-1001", 6)),
              "total": 5100, "payments": [{"method": "wechat", "amount": 5100}],
              "reason": "多拿了"}
    await store.append("refund", refund)
    with pytest.raises(RecordError, match="exceed"):
        await store.append("refund", refund)
    void = {"sale_seq": s.seq, "total": 8500, "payments": [{"method": "wechat", "amount": 8500}],
            "reason": "录错"}
    with pytest.raises(RecordError, match="partly refunded"):
        await store.append("void", void)
    s2 = await store.append("sale", a_sale("XS-2", 10))
    await store.day_close("2026-11-29", cashier="C001")
    with pytest.raises(RecordError, match="closed day"):
        await store.append("void", {**void, "sale_seq": s2.seq})
    s3 = await store.append("sale", a_sale("XS-3", 10))
    await store.append("void", {**void, "sale_seq": s3.seq})
    assert verify_db(tmp_path / "journal.db") == ("valid", store.head.size)


async def test_day_close_computes_the_z_report_and_a_checkpoint(store: JournalStore) -> None:
    await store.append("sale", a_sale())
    await store.append("payment", {"purpose": "top_up", "method": "cash", "amount": 20000,
                                   "customer": "K002"})
    closed, cp = await store.day_close("2026-11-29", cashier="C001", cash_counted=20000)
    body = closed.entry.record()["body"]
    assert (body["z"], body["from_seq"], body["to_seq"]) == (1, 1, 2)
    assert body["period"] == {"absolute": 34000, "counts": {"payment": 1, "sale": 1},
                              "methods": {"cash": 20000, "wechat": 34000}, "net": 34000}
    assert (cp.checkpoint.size, cp.checkpoint.head) == (closed.seq + 1, closed.hash)
    second, _ = await store.day_close("2026-11-30")
    assert second.entry.record()["body"]["z"] == 2
    assert second.entry.record()["body"]["period"]["counts"] == {}


async def test_hq_cosignatures_are_checked_and_kept(store: JournalStore, tmp_path: Path) -> None:
    await store.append("sale", a_sale())
    _, cp = await store.day_close("2026-11-29")
    cosigned = cosign(cp, HQ_NAME, HQ, T // 1000)
    rec = await store.add_cosignature(cosigned.text(), HQ_NAME)
    assert rec.entry.record()["body"]["size"] == cp.checkpoint.size
    stranger = cosign(cp, HQ_NAME, ATTACKER, T // 1000)
    with pytest.raises(RecordError) as e:
        await store.add_cosignature(stranger.text(), HQ_NAME)
    assert e.value.code == "cosign"
    other = parse_note(cp.text().replace(cp.text().split("\n")[2], "A" * 43 + "="))
    with pytest.raises(RecordError) as e:
        await store.add_cosignature(cosign(other, HQ_NAME, HQ, 1).text(), HQ_NAME)
    assert e.value.code == "fork"
    conn = sqlite3.connect(tmp_path / "journal.db")
    stored = conn.execute("SELECT cosigned FROM checkpoints WHERE size = ?",
                          (cp.checkpoint.size,)).fetchone()[0]
    conn.close()
    assert stored == cosigned.text()
    assert verify_db(tmp_path / "journal.db", cosigners=COSIGNERS)[0] == "valid"


async def test_a_clock_set_back_is_recorded(store: JournalStore, clock: Clock,
                                            tmp_path: Path) -> None:
    await store.append("sale", a_sale())
    clock.now -= 90_000
    late = await store.append("sale", a_sale("XS-2"))
    rows = [Entry(raw, b"", sig).record() for raw, sig, _ in read_rows(tmp_path / "journal.db")]
    assert [r["type"] for r in rows] == ["genesis", "sale", "clock_set", "sale"]
    assert rows[2]["body"]["reason"] == "backward_jump"
    assert rows[2]["time"] == rows[2]["body"]["to"] < rows[1]["time"]
    assert late.time >= rows[2]["time"]
    assert verify_db(tmp_path / "journal.db") == ("valid", 4)


async def test_rotation_signs_with_both_keys_and_survives_reopening(
        store: JournalStore, tmp_path: Path, clock: Clock) -> None:
    key_path = tmp_path / "keys" / "journal.key"
    old = load_key(key_path)
    await store.append("sale", a_sale())
    rot = await store.rotate_key("年度密钥轮换")
    new = load_key(key_path)
    assert rot.entry.record()["key"] == key_id(public_bytes(old))
    assert store.head.key == key_id(public_bytes(new)) != key_id(public_bytes(old))
    assert not next_path(key_path).exists()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    await store.append("sale", a_sale("XS-2"))
    store.close()
    again = open_store(tmp_path, clock)
    try:
        assert again.head.key == key_id(public_bytes(new))
        await again.append("sale", a_sale("XS-3"))
    finally:
        again.close()
    assert verify_db(tmp_path / "journal.db", trusted=[public_bytes(old)]) == ("valid", 5)


async def test_an_interrupted_rotation_is_finished_or_undone(store: JournalStore, tmp_path: Path,
                                                             clock: Clock) -> None:
    key_path = tmp_path / "keys" / "journal.key"
    old = load_key(key_path)
    await store.rotate_key("换钥")
    store.close()
    # Crash after COMMIT, before the rename: the new key still waits in .next.
    shutil.move(key_path, next_path(key_path))
    write_key(key_path, old)
    st = open_store(tmp_path, clock)
    head = st.head
    st.close()
    assert not next_path(key_path).exists()
    assert key_id(public_bytes(load_key(key_path))) == head.key
    # Crash before COMMIT: the waiting key belongs to no record and is dropped.
    write_key(next_path(key_path), ATTACKER)
    st = open_store(tmp_path, clock)
    st.close()
    assert not next_path(key_path).exists()


async def test_reopening_restores_the_head(store: JournalStore, tmp_path: Path,
                                           clock: Clock) -> None:
    await store.append("sale", a_sale())
    _, cp = await store.day_close("2026-11-29")
    await store.add_cosignature(cosign(cp, HQ_NAME, HQ, 1).text(), HQ_NAME)
    head = store.head
    store.close()
    with pytest.raises(JournalClosedError):
        await store.append("sale", a_sale())
    st = open_store(tmp_path, clock)
    try:
        assert st.head == head
        closed, _ = await st.day_close("2026-11-30")
        assert closed.entry.record()["body"]["z"] == 2
    finally:
        st.close()


async def test_a_journal_needs_its_own_key(store: JournalStore, tmp_path: Path,
                                           clock: Clock) -> None:
    store.close()
    key_path = tmp_path / "keys" / "journal.key"
    key_path.unlink()
    with pytest.raises(KeyFileError, match="no journal key"):
        open_store(tmp_path, clock)
    write_key(key_path, ATTACKER)
    with pytest.raises(KeyFileError, match="signed by"):
        open_store(tmp_path, clock)
