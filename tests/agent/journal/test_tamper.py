"""Every tampering of the SQLite file is found and named by `storelink journal verify`.

Each case edits a real journal database directly, dropping the append-only triggers first as
an attacker with shell access would.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.cli import main
from agent.journal.keys import load_key
from agent.journal.store import JournalStore
from sync.journal.canonical import canonical
from sync.journal.record import record_hash, record_statement
from sync.journal.vectors import ATTACKER, lines, sale

ROOT = Path(__file__).resolve().parents[3]
T = 1795914000000


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A day of work in a real journal, plus the checkpoint printed after it."""
    d = tmp_path_factory.mktemp("journal")
    minutes = [0]

    def wall() -> int:
        minutes[0] += 1
        return T + 60_000 * minutes[0]

    store = JournalStore.open(d / "journal.db", d / "journal.key", boot="boot-1",
                              genesis={"store": "CQ-JB-001"}, wall=wall,
                              mono=lambda: 60_000 * minutes[0])

    async def day() -> None:
        a = store.append
        await a("audit", {"event": "user.login", "actor": "C001", "detail": "李晓燕 登录"})
        await a("sale", sale("XS-0041", lines(("JC-1001", 40), ("JC-1003", 6),
                                              ("JC-4002", 120)), ("wechat", 59200)))
        await a("sale", sale("XS-0042", lines(("JC-2001", 12)), ("alipay", 200000),
                             ("cash", 1600)))
        await a("payment", {"purpose": "credit_settlement", "method": "card", "amount": 50000})
        await a("approval", {"action": "refund", "approver": "M001", "via": "badge",
                             "subject": "XS-0041 退 2 盒螺丝"})
        await a("refund", {"sale_seq": 2, "order": "XS-0041", "lines": lines(("JC-1003", 2)),
                           "total": 3600, "payments": [{"method": "wechat", "amount": 3600}],
                           "reason": "规格不符", "approval_seq": 5})
        await a("sale", sale("XS-0043", lines(("JC-5001", 8)), ("member", 74400),
                             ("credit", 100000)))
        await a("handover", {"task": "SC-20261129-001", "step": 20, "from_worker": "W001",
                             "to_worker": "W002", "qty": 78, "step_name": "冲压"})
        await a("sale", sale("XS-0044", lines(("JC-1002", 1)), ("cash", 3600)))
        await store.day_close("2026-11-29", cashier="C001")
        await a("audit", {"event": "user.login", "actor": "C002"})
        await a("sale", sale("XS-0045", lines(("JC-5002", 2)), ("wechat", 2500)))
        await store.checkpoint()

    asyncio.run(day())
    store.close()
    assert main(["journal", "checkpoint", str(d / "journal.db")]) == 0
    return d


@pytest.fixture
def db(original: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    shutil.copy(original / "journal.db", tmp_path / "journal.db")
    capsys.readouterr()
    assert main(["journal", "checkpoint", str(tmp_path / "journal.db")]) == 0
    (tmp_path / "checkpoint.txt").write_text(capsys.readouterr().out)
    return tmp_path / "journal.db"


def attack(db: Path, fn: Callable[[sqlite3.Connection], object]) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    for name in ("journal_no_update", "journal_no_delete", "journal_dense"):
        conn.execute(f"DROP TRIGGER {name}")
    fn(conn)
    conn.close()


def record(conn: sqlite3.Connection, seq: int) -> dict[str, Any]:
    row = conn.execute("SELECT record FROM journal WHERE seq = ?", (seq,)).fetchone()
    value: dict[str, Any] = json.loads(row[0])
    return value


def put(conn: sqlite3.Connection, r: dict[str, Any], key: Ed25519PrivateKey | None = None,
        insert: bool = False) -> bytes:
    """Write record `r` at its seq with a fresh hash; re-sign with `key` or keep the old sig."""
    raw = canonical(r)
    h = record_hash(raw)
    if insert:
        sig = key.sign(record_statement(r, h)) if key else bytes(64)
        conn.execute("INSERT INTO journal VALUES (?, ?, ?, ?)", (r["seq"], raw.decode(), h, sig))
    elif key is not None:
        conn.execute("UPDATE journal SET record = ?, hash = ?, sig = ? WHERE seq = ?",
                     (raw.decode(), h, key.sign(record_statement(r, h)), r["seq"]))
    else:
        conn.execute("UPDATE journal SET record = ?, hash = ? WHERE seq = ?",
                     (raw.decode(), h, r["seq"]))
    return h


def verify(db: Path, capsys: pytest.CaptureFixture[str], checkpoint: bool = False) -> tuple[int,
                                                                                            str]:
    args = ["journal", "verify", str(db)]
    if checkpoint:
        args += ["--checkpoint", str(db.parent / "checkpoint.txt")]
    code = main(args)
    return code, capsys.readouterr().out.splitlines()[0]


def test_the_untouched_journal_verifies(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(db, capsys) == (0, "valid: 13 records of log " + record(
        sqlite3.connect(db), 0)["log"])
    assert verify(db, capsys, checkpoint=True)[0] == 0


def test_a_changed_amount(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attack(db, lambda c: c.execute("UPDATE journal SET record = replace(record, "
                                   "'\"total\":59200', '\"total\":5920') WHERE seq = 2"))
    assert verify(db, capsys) == (1, "invalid: seq 2: hash: the stored hash is not the hash of "
                                     "the record bytes")


def test_a_changed_amount_with_its_hash_recomputed(db: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def edit(c: sqlite3.Connection) -> None:
        r = record(c, 3)
        r["body"]["payments"][0]["amount"] -= 100000
        r["body"]["payments"][1]["amount"] += 100000
        put(c, r)

    attack(db, edit)
    assert verify(db, capsys)[1].startswith("invalid: seq 3: signature:")


def test_a_deleted_middle_record(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attack(db, lambda c: c.execute("DELETE FROM journal WHERE seq = 5"))
    assert verify(db, capsys) == (1, "invalid: seq 5: seq: expected seq 5, found 6: a record is "
                                     "missing or out of order")


def test_two_records_swapped(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def swap(c: sqlite3.Connection) -> None:
        c.execute("UPDATE journal SET seq = 1000 WHERE seq = 7")
        c.execute("UPDATE journal SET seq = 7 WHERE seq = 8")
        c.execute("UPDATE journal SET seq = 8 WHERE seq = 1000")

    attack(db, swap)
    assert verify(db, capsys)[1].startswith("invalid: seq 7: seq: expected seq 7, found 8")


def test_a_record_inserted(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def insert(c: sqlite3.Connection) -> None:
        c.execute("UPDATE journal SET seq = seq + 1000000 WHERE seq >= 4")
        c.execute("UPDATE journal SET seq = seq - 999999 WHERE seq >= 1000000")
        before = record(c, 3)
        prev = c.execute("SELECT hash FROM journal WHERE seq = 3").fetchone()[0]
        forged = dict(before, seq=4, type="audit", prev=prev.hex(),
                      body={"event": "drawer.open", "actor": "C001"})
        forged["totals"] = dict(before["totals"], counts=dict(before["totals"]["counts"],
                                                              audit=2))
        put(c, forged, ATTACKER, insert=True)

    attack(db, insert)
    assert verify(db, capsys)[1].startswith("invalid: seq 4: signature:")


def test_the_tail_truncated(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    attack(db, lambda c: c.execute("DELETE FROM journal WHERE seq >= 11"))
    assert verify(db, capsys)[0] == 0  # a cut tail is invisible without a checkpoint
    assert verify(db, capsys, checkpoint=True) == (
        1, "invalid: seq 11: truncated: the checkpoint covers 13 records, the journal has 11")


def test_a_record_re_signed_with_another_key(db: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    attack(db, lambda c: put(c, record(c, 3), ATTACKER))
    assert verify(db, capsys)[1].startswith("invalid: seq 3: signature:")


def test_a_forked_history_against_a_checkpoint(db: Path, original: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    key = load_key(original / "journal.key")  # the box key, stolen

    def fork(c: sqlite3.Connection) -> None:
        r = record(c, 8)
        r["body"]["qty"] = 80  # same seq, different content, signed with the stolen key
        prev = put(c, r, key)
        for seq in range(9, 13):
            r = dict(record(c, seq), prev=prev.hex())
            prev = put(c, r, key)

    attack(db, fork)
    assert verify(db, capsys)[0] == 0  # internally consistent: the key was stolen
    assert verify(db, capsys, checkpoint=True) == (
        1, "invalid: seq 12: fork: record 12 is not the head the checkpoint names: the history "
           "was rewritten")


def test_totals_edited_consistently_are_caught_by_the_signature(
        db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(c: sqlite3.Connection) -> None:
        r = record(c, 9)  # the 3600 cash sale becomes 360
        r["body"]["lines"][0].update(unit_price=360, amount=360)
        r["body"].update(total=360, payments=[{"method": "cash", "amount": 360}])
        prev = None
        for seq in range(9, 13):
            r = r if seq == 9 else record(c, seq)
            r["totals"]["net"] -= 3240
            r["totals"]["absolute"] -= 3240
            r["totals"]["methods"]["cash"] -= 3240
            if r["type"] == "day_close":
                for k in ("net", "absolute"):
                    r["body"]["period"][k] -= 3240
                r["body"]["period"]["methods"]["cash"] -= 3240
            if prev is not None:
                r["prev"] = prev.hex()
            prev = put(c, r)

    attack(db, edit)
    assert verify(db, capsys)[1].startswith("invalid: seq 9: signature:")


def test_exit_codes_from_a_real_process(db: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from agent.journal.cli import main; raise SystemExit(main())",
             "journal", "verify", *args], cwd=ROOT, capture_output=True, text=True, check=False)

    assert run(str(db)).returncode == 0
    assert run(str(db.parent / "missing.db")).returncode == 2
    attack(db, lambda c: c.execute("DELETE FROM journal WHERE seq = 5"))
    done = run(str(db))
    assert done.returncode == 1
    assert done.stdout.startswith("invalid: seq 5: seq:")

