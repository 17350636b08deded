"""HQ ingest with several workers: journal records/s verified, stored and acknowledged by 1, 2
and 4 HQ worker processes sharing one PostgreSQL database through `$share/…` subscriptions, and
by one worker on SQLite — beside the same run's raw baselines: PostgreSQL INSERT+COMMIT of the
same rows in the same batches on one connection, and Ed25519 verifies on one core.

Boxes upload as boxes do (one batch in flight per box, the next on its acknowledgement), so a
box's batches may reach any worker. Then: how many boxes one worker holds at a realistic rhythm
with a sync lag under one second, from its rate on one-record batches (see the output).

    .venv/bin/python bench/bench_hq_workers.py [--boxes 40] [--records 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.fleet_sim.rhythm import sale_body
from bench.rows import Row, add_json_flag, emit
from sync.journal.chain import MemoryChain
from sync.journal.record import Entry, public_bytes
from sync.mqtt_session import Message, MqttSession, SessionConfig
from sync.protocol.messages import JournalAck, JournalBatch
from sync.protocol.topics import ROOT, Down, Up, parse_topic, up
from tests.e2e.broker import Broker
from tests.e2e.postgres import throwaway_cluster
from tests.e2e.procs import Proc, hq_process
from tests.hq.workers import worker_toml

T0 = 1_795_914_000_000
SALES_PER_HOUR = 60
"""A busy till: one sale a minute. Each sale travels as two batches (the sale, then the cosign
record the box keeps of HQ's acknowledgement)."""
UTILISATION = 0.5
"""The share of a worker's one-record rate the boxes may use: at half load the queueing delay
stays around one service time (milliseconds), far under the one-second lag allowed."""


def chains(boxes: int, records: int) -> dict[str, MemoryChain]:
    """Each box's signed journal of `records` sales after genesis (the real record format)."""
    import random

    rng = random.Random(16)
    out = {}
    for i in range(boxes):
        key = Ed25519PrivateKey.generate()
        c = MemoryChain(log=f"{i:032x}", key=key, time=T0, boot="bench")
        for n in range(1, records + 1):
            c.append("sale", sale_body(rng, n), T0 + n * 1000)
        out[f"BENCH-{i:04d}"] = c
    return out


def boxes_toml(cs: dict[str, MemoryChain]) -> str:
    """The `[[boxes]]` tables registering the bench boxes."""
    return "".join(f'\n[[boxes]]\nid = "{b}"\npubkeys = ["{public_bytes(c.signer).hex()}"]\n'
                   for b, c in cs.items())


def wire(e: Entry) -> dict[str, object]:
    """One entry as a batch carries it."""
    return {"hash": e.hash.hex(), "record": json.loads(e.raw), "sig": e.sig.hex()}


async def upload(port: int, cs: dict[str, MemoryChain], batch: int) -> float:
    """Every box's journal uploaded, one batch in flight per box; seconds from first send to
    last acknowledgement."""
    s = MqttSession(SessionConfig("127.0.0.1", port, "bench-boxes", clean_start=True,
                                  subscriptions=((f"{ROOT}/box/+/down/journal-ack", 1),),
                                  max_inflight=1000, max_queued=100_000))
    await s.start()
    await s.wait_connected(30)
    await asyncio.sleep(0.5)  # the SUBACK
    payloads = {b: [wire(e) for e in c.entries] for b, c in cs.items()}
    held = dict.fromkeys(cs, 0)
    total = {b: len(p) for b, p in payloads.items()}
    sent_at: dict[str, float] = {}

    async def send(box: str) -> None:
        start = held[box]
        recs = tuple(payloads[box][start:start + batch])
        sent_at[box] = time.monotonic()
        await s.publish(up(box, Up.JOURNAL), JournalBatch(box, cs[box].head.log, start, recs)
                        .to_json(), 1, wait_s=30)

    t0 = time.monotonic()
    for b in cs:
        await send(b)
    left = set(cs)
    while left:
        try:
            ev = await asyncio.wait_for(s.events.get(), 1.0)
        except TimeoutError:
            ev = None
        now = time.monotonic()
        if isinstance(ev, Message) and parse_topic(ev.topic).leaf is Down.JOURNAL_ACK:
            ack = JournalAck.from_json(ev.payload)
            if ack.box in left and ack.size >= held[ack.box]:
                held[ack.box] = ack.size
                if ack.size >= total[ack.box]:
                    left.discard(ack.box)
                else:
                    await send(ack.box)
        for b in list(left):  # a batch lost with a worker, or answered "resend": send again
            if now - sent_at[b] > 5.0:
                await send(b)
        if now - t0 > 600:
            raise RuntimeError(f"{len(left)} boxes never fully acknowledged")
    elapsed = time.monotonic() - t0
    await s.stop()
    return elapsed


def raw_pg(url: str, rows: int, batch: int) -> float:
    """Rows/s: INSERT of journal-sized rows, `batch` per transaction, one connection."""
    blob = b"x" * 600
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS raw_bench (box TEXT, seq BIGINT, raw BYTEA, "
                  "hash BYTEA, sig BYTEA, PRIMARY KEY (box, seq))")
        c.execute("TRUNCATE raw_bench")
        t0 = time.perf_counter()
        for i in range(0, rows, batch):
            with c.transaction():
                c.cursor().executemany(
                    "INSERT INTO raw_bench VALUES (%s, %s, %s, %s, %s)",
                    [("B", j, blob, b"h" * 32, b"s" * 64) for j in range(i, i + batch)])
        return rows / (time.perf_counter() - t0)


def raw_verify(n: int) -> float:
    """Ed25519 verifies/s on one core, of 600-byte messages."""
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    msg = b"m" * 600
    sig = key.sign(msg)
    t0 = time.perf_counter()
    for _ in range(n):
        pub.verify(sig, msg)
    return n / (time.perf_counter() - t0)


def run_case(tmp: Path, broker: Broker, db: str, workers: int, cs: dict[str, MemoryChain],
             batch: int) -> float:
    """Records/s of one case: fresh store, `workers` HQ processes, every journal uploaded."""
    procs: list[Proc] = []
    try:
        for w in range(1, workers + 1):
            cfg = worker_toml(tmp, f"hq-{w}", broker.port, db, boxes_toml(cs))
            procs.append(hq_process(cfg, tmp / f"hq-{w}.log").start())
        elapsed = asyncio.run(upload(broker.port, cs, batch))
    finally:
        for p in procs:
            p.stop()
    return sum(len(c.entries) for c in cs.values()) / elapsed


def main() -> int:
    """Print medians of each case and of the baselines, with ratios."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--boxes", type=int, default=40)
    ap.add_argument("--records", type=int, default=500)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    add_json_flag(ap)
    args = ap.parse_args()
    cs = chains(args.boxes, args.records)
    small = chains(args.boxes, 50)
    n = sum(len(c.entries) for c in cs.values())
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hq-") as d, throwaway_cluster() as pg:
        tmp = Path(d)
        broker = Broker(tmp / "broker")
        broker.start()
        try:
            for run in range(args.runs):
                for name, workers, sqlite in (("sqlite, 1 worker", 1, True),
                                              ("postgresql, 1 worker", 1, False),
                                              ("postgresql, 2 workers", 2, False),
                                              ("postgresql, 4 workers", 4, False)):
                    db = str(tmp / f"hq-{run}-{workers}.db") if sqlite else pg.new_database()
                    results.setdefault(name, []).append(
                        run_case(tmp / f"{run}-{workers}-{sqlite}", broker, db, workers, cs,
                                 args.batch))
                results.setdefault("one-record batches, postgresql, 1 worker", []).append(
                    run_case(tmp / f"{run}-single", broker, pg.new_database(), 1, small, 1))
                results.setdefault("raw PostgreSQL INSERT+COMMIT", []).append(
                    raw_pg(pg.new_database(), n, args.batch))
                results.setdefault("raw PostgreSQL INSERT+COMMIT, one row each", []).append(
                    raw_pg(pg.new_database(), sum(len(c.entries) for c in small.values()), 1))
                results.setdefault("raw Ed25519 verifies (1 core)", []).append(
                    raw_verify(20_000))
        finally:
            broker.stop()
    med = {k: statistics.median(v) for k, v in results.items()}
    base_pg = med["raw PostgreSQL INSERT+COMMIT"]
    base_ed = med["raw Ed25519 verifies (1 core)"]
    print(f"HQ ingest: {args.boxes} boxes × {args.records} records in batches of "
          f"{args.batch}, median of {args.runs} runs (records/s verified, stored, acked)")
    for k, v in med.items():
        print(f"  {k:<42} {v:>10.0f}/s   {v / base_pg:5.2f}× raw PG   "
              f"{v / base_ed:5.2f}× raw verify")
    one = med["one-record batches, postgresql, 1 worker"]
    per_box = 2 * SALES_PER_HOUR / 3600
    held = one * UTILISATION / per_box
    print(f"  one worker at {SALES_PER_HOUR} sales/h per box (2 batches per sale) and "
          f"{UTILISATION:.0%} load: {held:.0f} boxes with sync lag < 1 s")
    raw_pg_row = f"raw PostgreSQL INSERT+COMMIT, batches of {args.batch}"
    shape = f"{args.boxes} boxes × {args.records} records, batches of {args.batch}"
    rows = [Row(f"HQ ingest, {k}", v, "records/s", raw_pg_row, base_pg, note=shape)
            for k, v in med.items() if not k.startswith(("raw", "one-record"))]
    rows += [Row("HQ ingest, one-record batches, postgresql, 1 worker", one, "records/s",
                 "raw PostgreSQL INSERT+COMMIT, one row each",
                 med["raw PostgreSQL INSERT+COMMIT, one row each"]),
             Row(f"boxes one HQ worker holds, sync lag < 1 s ({SALES_PER_HOUR} sales/h, "
                 f"{UTILISATION:.0%} load)", held, "boxes",
                 note="from the one-record rate above")]
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
