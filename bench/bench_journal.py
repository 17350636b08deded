"""Journal throughput, each figure beside its baseline measured in the same run.

    python bench/bench_journal.py [--runs 5] [--records 20000] [--detail] [--json]

Append: one writer and 20 concurrent writers (asyncio tasks awaiting acknowledgement) against
raw SQLite single-row commits with the same durability (WAL, synchronous=FULL).
Verify: the full verifier (one core) against raw Ed25519 verifications; then several worker
processes on a large journal, with the speed-up over one process.
--detail adds where each record's time goes (one core, best of the runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agent.journal.store import JournalStore, read_rows
from bench.rows import Row, add_json_flag, emit
from sync.journal.canonical import parse_canonical_fast
from sync.journal.chain import build_next
from sync.journal.fastparse import split_record
from sync.journal.parallel import verify_source
from sync.journal.record import record_hash, record_statement
from sync.journal.rules import MemoryLedger
from sync.journal.vectors import lines, sale
from sync.journal.verify import Verifier

GOALS = {"one": 0.70, "twenty": 5.0, "verify": 0.80}


def body(i: int) -> dict[str, Any]:
    """A realistic two-line sale (about 700 bytes as a record)."""
    return sale(f"XS-20261129-{i:06d}", lines(("JC-1001", 1 + i % 9), ("JC-1003", 2)),
                ("wechat", 850 * (1 + i % 9) + 3600), customer="K002")


def raw_commits(path: Path, n: int, size: int = 700) -> float:
    """Single-row durable commits per second (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT, h BLOB, s BLOB)")
    payload = "x" * size
    start = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v, h, s) VALUES (?, ?, ?)", (payload, bytes(32), bytes(64)))
        conn.execute("COMMIT")
    rate = n / (time.perf_counter() - start)
    conn.close()
    return rate


def appends(store: JournalStore, writers: int, n: int) -> float:
    """Acknowledged appends per second with `writers` concurrent asyncio writers."""
    bodies = [[body(w * n + i) for i in range(n // writers)] for w in range(writers)]

    async def writer(w: int) -> None:
        for b in bodies[w]:
            await store.append("sale", b)

    async def all_writers() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        return (n // writers) * writers / (time.perf_counter() - start)

    return asyncio.run(all_writers())


def signed_messages(n: int) -> tuple[Any, list[tuple[bytes, bytes]]]:
    """A public key and `n` distinct 250-byte messages with their signatures."""
    key = Ed25519PrivateKey.generate()
    msgs = [i.to_bytes(8, "big") * 31 + b"xx" for i in range(n)]
    return key.public_key(), [(key.sign(m), m) for m in msgs]


def raw_verify(pub: Any, pairs: list[tuple[bytes, bytes]]) -> float:
    """Ed25519 verifications per second of distinct messages (one core): the bare crypto."""
    start = time.perf_counter()
    for sig, msg in pairs:
        pub.verify(sig, msg)
    return len(pairs) / (time.perf_counter() - start)


def journal_verify(rows: list[tuple[bytes, bytes, bytes | None]]) -> float:
    """Records per second through the full verifier (one core, rows already read)."""
    v = Verifier()
    start = time.perf_counter()
    for raw, sig, h in rows:
        if v.feed(raw, sig, h) is not None:
            raise SystemExit(f"bench journal is invalid: {v.failure}")
    return len(rows) / (time.perf_counter() - start)


def parallel_verify(db: Path, processes: int) -> float:
    """Records per second verifying a journal database with `processes` workers."""
    start = time.perf_counter()
    v = verify_source(lambda: read_rows(db), Verifier(), processes=processes, chunk=2000)
    if v.finish() is not None:
        raise SystemExit(f"bench journal is invalid: {v.failure}")
    return v.size / (time.perf_counter() - start)


def _per_record_us(runs: int, n: int, fn: Callable[[], object]) -> float:
    best = min(_timed(fn) for _ in range(runs))
    return best / n * 1e6


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def verify_detail(rows: list[tuple[bytes, bytes, bytes | None]], runs: int) -> list[str]:
    """Where a verified record's time goes (µs, one core): the whole, Ed25519, reading."""
    records = [parse_canonical_fast(raw) for raw, _, _ in rows]
    pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(records[0]["body"]["pubkey"]))
    signed = [(sig, record_statement(r, h if h is not None else record_hash(raw)))
              for r, (raw, sig, h) in zip(records, rows, strict=True)]
    n = len(rows)
    whole = _per_record_us(runs, n, lambda: journal_verify(rows))
    crypto = _per_record_us(runs, n, lambda: [pub.verify(sig, m) for sig, m in signed])
    fast = _per_record_us(runs, n, lambda: [split_record(raw) for raw, _, _ in rows])
    full = _per_record_us(runs, n, lambda: [parse_canonical_fast(raw) for raw, _, _ in rows])
    return [f"verify, per record: {whole:6.1f} µs = Ed25519 {crypto:6.1f} + the rest "
            f"{whole - crypto:5.1f} (of which reading the canonical bytes {fast:4.1f}; "
            f"a full parse and re-encoding would take {full:4.1f})"]


def append_detail(store: JournalStore, runs: int, commit_us: float, per_commit: float
                  ) -> list[str]:
    """Where an appended record's time goes (µs, one core): build and check, sign, commit."""
    bodies = [body(i) for i in range(2000)]
    head = store.head
    key = Ed25519PrivateKey.generate()
    built = [build_next(head, type_="sale", body=b, time=head.time, boot="bench",
                        ledger=MemoryLedger()) for b in bodies[:200]]
    build = _per_record_us(runs, len(bodies), lambda: [
        build_next(head, type_="sale", body=b, time=head.time, boot="bench",
                   ledger=MemoryLedger()) for b in bodies])
    sign = _per_record_us(runs, len(built), lambda: [key.sign(u.statement) for u in built])
    return [f"append, per record: build and check {build:5.1f} µs, Ed25519 sign {sign:5.1f} µs, "
            f"durable commit {commit_us:5.1f} µs per commit ({per_commit:.1f} records)"]


def median_pairs(runs: int, measure: Callable[[], tuple[float, float]]) -> tuple[float, float,
                                                                                  float]:
    """Median of each figure and of their ratio over `runs` paired measurements."""
    pairs = [measure() for _ in range(runs)]
    return (statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs),
            statistics.median(a / b for a, b in pairs))


def main(argv: list[str] | None = None) -> int:
    """Print the figures; exit 0 (goals are reported, not enforced)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--records", type=int, default=20000, help="size of the large journal")
    ap.add_argument("--detail", action="store_true", help="per-record cost breakdown")
    add_json_flag(ap)
    args = ap.parse_args(argv)
    detail: list[str] = []
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        d = Path(tmp)
        store = JournalStore.open(d / "j.db", d / "j.key", genesis={"store": "CQ-JB-001"})
        try:
            appends(store, 1, 200)  # warm up
            one, raw1, r1 = median_pairs(args.runs, lambda: (
                appends(store, 1, 600), raw_commits(d / "raw.db", 600)))
            commits, size = store.commits, store.head.size
            twenty, one_again, r20 = median_pairs(args.runs, lambda: (
                appends(store, 20, 4000), appends(store, 1, 600)))
            per_commit = (store.head.size - size - 600 * args.runs) / (
                store.commits - commits - 600 * args.runs)
            missing = args.records - store.head.size
            if missing > 0:
                appends(store, 20, missing + 20 - missing % 20)
            if args.detail:
                detail += append_detail(store, args.runs, 1e6 / raw1, per_commit)
        finally:
            store.close()
        rows = list(read_rows(d / "j.db"))
        sample = rows[:4000]
        pub, pairs = signed_messages(len(sample))
        ver, rawv, rv = median_pairs(args.runs, lambda: (
            journal_verify(sample), raw_verify(pub, pairs)))
        seq1 = parallel_verify(d / "j.db", 1)
        par = parallel_verify(d / "j.db", cores)
        if args.detail:
            detail += verify_detail(sample, args.runs)

    print(f"journal bench: {cores} cores, Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}, median of {args.runs} runs")
    print(f"append, 1 writer:    {one:9.0f} records/s   raw durable commits "
          f"{raw1:9.0f}/s   ratio {r1:5.1%}  (goal ≥ {GOALS['one']:.0%})")
    print(f"append, 20 writers:  {twenty:9.0f} records/s   1 writer {one_again:9.0f}/s"
          f"          × {r20:4.1f}  (goal ≥ ×{GOALS['twenty']:.0f}); "
          f"{per_commit:.1f} records per commit")
    print(f"verify, 1 core:      {ver:9.0f} records/s   raw Ed25519 verify "
          f"{rawv:9.0f}/s   ratio {rv:5.1%}  (goal ≥ {GOALS['verify']:.0%})")
    print(f"verify {len(rows)} records from SQLite: 1 process {seq1:9.0f}/s, "
          f"{cores} processes {par:9.0f}/s   speed-up × {par / seq1:.2f}")
    for line in detail:
        print(line)
    emit([Row("journal append, 1 writer", one, "records/s",
              "raw durable SQLite commits (WAL, FULL), 1 row each", raw1),
          Row("journal append, 20 writers", twenty, "records/s",
              "raw durable SQLite commits (WAL, FULL), 1 row each", raw1,
              note=f"{per_commit:.1f} records per commit; × {r20:.1f} one writer"),
          Row("journal verify, 1 core", ver, "records/s", "raw Ed25519 verify, 250 B", rawv),
          Row(f"journal verify from SQLite, {cores} processes", par, "records/s",
              "the same, 1 process", seq1, note=f"{len(rows):,} records")], args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
