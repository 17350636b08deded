"""kill -9 while 20 writers append: every acknowledged record survives and the journal verifies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.journal.store import JournalStore, read_rows
from sync.journal.verify import Verifier

ROOT = Path(__file__).resolve().parents[3]
WRITERS = """
import asyncio, sys
from agent.journal.store import JournalStore
from sync.journal.vectors import lines, sale

async def main() -> None:
    store = JournalStore.open(sys.argv[1], sys.argv[2], genesis={"store": "CQ-JB-001"})
    async def writer(i: int) -> None:
        n = 0
        while True:
            body = sale(f"XS-{i:02d}-{n:06d}", lines(("JC-1001", 1 + n % 7)),
                        ("cash", 850 * (1 + n % 7)))
            a = await store.append("sale", body)
            sys.stdout.write(f"{a.seq} {a.hash.hex()}\\n")
            sys.stdout.flush()
            n += 1
    await asyncio.gather(*(writer(i) for i in range(20)))

asyncio.run(main())
"""


def test_kill_9_loses_no_acknowledged_record(tmp_path: Path) -> None:
    db, key = tmp_path / "journal.db", tmp_path / "journal.key"
    proc = subprocess.Popen([sys.executable, "-c", WRITERS, str(db), str(key)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acked: dict[int, str] = {}
    deadline = time.monotonic() + 120
    try:
        while len(acked) < 400 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seq, h = line.split()
            acked[int(seq)] = h
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate()
    assert len(acked) >= 400, err
    for line in rest.splitlines():  # acknowledged before the kill, still in the pipe
        parts = line.split()
        if len(parts) == 2 and len(parts[1]) == 64:
            acked[int(parts[0])] = parts[1]
    stored: dict[int, str] = {}
    v = Verifier()
    for raw, sig, stored_hash in read_rows(db):
        assert v.feed(raw, sig, stored_hash) is None, v.failure
        assert stored_hash is not None
        stored[v.size - 1] = stored_hash.hex()
    assert v.finish() is None
    missing = {s: h for s, h in acked.items() if stored.get(s) != h}
    assert missing == {}
    store = JournalStore.open(db, key)  # and the box carries on after the restart
    try:
        assert store.head.size == len(stored)
        assert store.append_sync("audit", {"event": "box.restart", "actor": "system"}).seq == (
            len(stored))
    finally:
        store.close()
