"""Stored checkpoints (docs/journal.md §10, §12): after HQ's cosignature the stored note still
carries the box's own signature, so `journal checkpoint` output verifies with the box key alone;
CR LF line ends are read as LF."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
from pathlib import Path

from agent.journal.cli import main
from agent.journal.store import JournalStore
from sync.journal.checkpoint import Checkpoint, SignedCheckpoint, cosign, parse_note
from sync.journal.vectors import HQ, HQ_NAME, lines, sale
from tests.agent.journal.test_store import COSIGNERS

T = 1795914000000


def cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def _store(tmp: Path) -> JournalStore:
    ticks = [0]

    def wall() -> int:
        ticks[0] += 1
        return T + ticks[0]

    return JournalStore.open(tmp / "journal.db", tmp / "journal.key", boot="b1", wall=wall,
                             mono=lambda: ticks[0], cosigners=COSIGNERS)


def _hq_only(store: JournalStore) -> str:
    """HQ's cosigned note as HQ's ack carries it: the cosignature line alone."""
    h = store.head
    return cosign(SignedCheckpoint(Checkpoint(h.log, h.size, h.hash), ()), HQ_NAME, HQ,
                  T // 1000).text()


def test_a_cosigned_checkpoint_verifies_with_the_box_key_alone(tmp_path: Path) -> None:
    store = _store(tmp_path)

    async def work() -> None:
        await store.append("sale", sale("XS-1", lines(("JC-1001", 2)), ("cash", 1700)))
        await store.add_cosignature(_hq_only(store), HQ_NAME)  # no box note at that size yet
        await store.append("sale", sale("XS-2", lines(("JC-1001", 1)), ("wechat", 850)))
        await store.day_close("2026-11-29")  # the box's note first, then HQ's cosignature
        await store.add_cosignature(_hq_only(store), HQ_NAME)

    asyncio.run(work())
    store.close()
    db = tmp_path / "journal.db"
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT size, note, cosigned FROM checkpoints ORDER BY size").fetchall()
    conn.close()
    assert [r[0] for r in rows] == [2, 5]
    for size, note, cosigned in rows:
        own, both = parse_note(note), parse_note(cosigned)
        assert [s.name for s in own.signatures] == [f"storelink.journal/{own.checkpoint.log}"]
        assert both.signatures[0] == own.signatures[0] and both.signatures[1].name == HQ_NAME
        printed = tmp_path / f"cp-{size}.txt"
        code, text = cli("journal", "checkpoint", str(db), "--size", str(size))
        printed.write_text(text, encoding="utf-8")
        assert code == 0 and text == cosigned
        code, text = cli("journal", "verify", str(db), "--checkpoint", str(printed))
        assert code == 0 and f"checkpoint: size {size} is consistent" in text, text


def test_a_checkpoint_with_crlf_line_ends_is_the_same_note(tmp_path: Path) -> None:
    store = _store(tmp_path)

    async def work() -> SignedCheckpoint:
        await store.append("sale", sale("XS-1", lines(("JC-1001", 2)), ("cash", 1700)))
        return await store.checkpoint()

    signed = asyncio.run(work())
    store.close()
    crlf = signed.text().replace("\n", "\r\n")
    assert parse_note(crlf) == signed
    path = tmp_path / "cp.txt"
    path.write_bytes(crlf.encode())
    assert cli("journal", "verify", str(tmp_path / "journal.db"), "--checkpoint",
               str(path))[0] == 0
    lone_cr = signed.text().replace("\n", "\r", 1)
    path.write_bytes(lone_cr.encode())
    code, text = cli("journal", "verify", str(tmp_path / "journal.db"), "--checkpoint",
                     str(path))
    assert code == 2 and "CR" in text
