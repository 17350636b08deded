"""Sync figures over loopback with real processes (mosquitto, HQ, box, simulated printer):
cloud print latency (HQ API call → bytes at the printer, and → HQ holding the box's
`printed` state) and catch-up time of a journal backlog, each beside the broker's raw one-way
latency and raw QoS 1 throughput measured in the same run with the same payload sizes.

    .venv/bin/python bench/bench_sync.py [--jobs 1000] [--backlog 100000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.journal.store import JournalStore
from bench.print_trace import Job, per_job, read_marks, report
from bench.rows import Row, add_json_flag, emit, pct
from sync import latency_trace
from sync.durable_sqlite import immediate, open_durable
from sync.mqtt_session import Message, MqttSession, SessionConfig
from sync.protocol.messages import JournalBatch, PrintDispatch
from tests.e2e.box_proc import sale_body
from tests.e2e.world import World, job, wait_for
from tests.hq.journals import BOX

T = TypeVar("T")


async def broker_one_way(port: int, payload_size: int, n: int) -> list[float]:
    """Publish → subscriber delivery latency in ms through the broker, QoS 1, one at a time."""
    sub = MqttSession(SessionConfig("127.0.0.1", port, "bench-sub", clean_start=True,
                                    subscriptions=(("bench/lat", 1),)))
    pub = MqttSession(SessionConfig("127.0.0.1", port, "bench-pub", clean_start=True))
    await sub.start()
    await pub.start()
    await sub.wait_connected(30)
    await pub.wait_connected(30)
    await asyncio.sleep(0.3)
    body = b"x" * payload_size
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await pub.publish("bench/lat", body, 1, wait_s=30)
        while not isinstance(await sub.events.get(), Message):
            pass
        out.append((time.perf_counter() - t0) * 1000)
    await pub.stop()
    await sub.stop()
    return out


async def broker_throughput(port: int, payload: bytes, n: int, window: int = 8) -> float:
    """Seconds to move n QoS 1 messages of `payload` publisher → subscriber, `window` in flight."""
    sub = MqttSession(SessionConfig("127.0.0.1", port, "bench-tsub", clean_start=True,
                                    subscriptions=(("bench/tp", 1),)))
    pub = MqttSession(SessionConfig("127.0.0.1", port, "bench-tpub", clean_start=True,
                                    max_inflight=window))
    await sub.start()
    await pub.start()
    await sub.wait_connected(30)
    await pub.wait_connected(30)
    await asyncio.sleep(0.3)

    async def receive() -> None:
        got = 0
        while got < n:
            if isinstance(await sub.events.get(), Message):
                got += 1

    t0 = time.perf_counter()
    rx = asyncio.create_task(receive())
    sem = asyncio.Semaphore(window)

    async def send() -> None:
        async with sem:
            await pub.publish("bench/tp", payload, 1, wait_s=60)

    await asyncio.gather(*(send() for _ in range(n)))
    await rx
    took = time.perf_counter() - t0
    await pub.stop()
    await sub.stop()
    return took


def raw_commits(folder: Path, size: int, n: int) -> list[float]:
    """Durable SQLite commits (WAL, synchronous=FULL, opened as HQ's store and the box's queue
    open theirs) of one `size`-byte row each, one after another, in ms: the cost of each commit
    the cloud print path must keep."""
    conn = open_durable(folder / "raw-commits.db", 5000)
    try:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
        out = []
        for i in range(n):
            t0 = time.perf_counter()
            with immediate(conn):
                conn.execute("INSERT INTO t (body) VALUES (?)", (f"{i:08d}" + "x" * size,))
            out.append((time.perf_counter() - t0) * 1000)
        return out
    finally:
        conn.close()


def hq_size(w: World) -> int:
    """How many records of the box HQ holds (cheap: one registry read)."""
    _, view = w.api("GET", f"/v1/boxes/{BOX}")
    held = view.get("hq_journal") if isinstance(view, dict) else None
    return int(held["size"]) if held else 0


def hq_printed_latency(db: Path, prefix: str) -> list[float]:
    """For every bench job: HQ accepted it → HQ stored the box's `printed` state, in ms (both
    HQ's clock, read from HQ's database after the run)."""
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT s.received_ms - j.created_ms FROM jobs j JOIN job_states s "
                            "ON s.job_id = j.id WHERE s.state = 'printed' AND j.id LIKE ?",
                            (prefix + "%",)).fetchall()
    finally:
        conn.close()
    return [float(r[0]) for r in rows]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_job(pids: dict[str, int], run: Callable[[], list[T]], idle_s: float = 10.0
                ) -> tuple[list[T], dict[str, float], dict[str, float]]:
    """`run()`'s jobs, the CPU milliseconds each named process used per job during it less
    what it uses idle (its timers, measured for `idle_s` before, scaled to the run), and that
    idle use in CPU milliseconds per second."""
    t0, idle0 = time.monotonic(), {name: cpu_s(pid) for name, pid in pids.items()}
    time.sleep(idle_s)
    t1, before = time.monotonic(), {name: cpu_s(pid) for name, pid in pids.items()}
    out = run()
    t2, after = time.monotonic(), {name: cpu_s(pid) for name, pid in pids.items()}
    scale = (t2 - t1) / (t1 - t0)
    return out, {name: (after[name] - before[name] - (before[name] - idle0[name]) * scale)
                 * 1000 / max(1, len(out)) for name in pids}, \
        {name: (before[name] - idle0[name]) * 1000 / (t1 - t0) for name in pids}


def _logged_since(path: Path, offset: int) -> bytes:
    """The printer log's complete lines after byte `offset` (b"" while there is none)."""
    if not path.exists() or path.stat().st_size <= offset:
        return b""
    with path.open("rb") as f:
        f.seek(offset)
        data = f.read()
    return data[:data.rfind(b"\n") + 1]


def print_latency(w: World, jobs: int, keep_alive: bool = True) -> list[Job]:
    """Jobs one after another: when each was POSTed at HQ and when the printer had its bytes.
    With `keep_alive`, on one HTTP connection, as a client sending jobs all day would."""
    out = []
    conn = http.client.HTTPConnection("127.0.0.1", w.hq.port, timeout=30)
    for i in range(jobs):
        jid = f"bench-{i}"
        # Waiting costs one stat() per poll, not a parse of the whole log: the bench must not
        # take a core from the path it measures (two cores here, four processes on the path).
        seen = w.printer_log.stat().st_size if w.printer_log.exists() else 0
        body = json.dumps({"box": BOX, "job": job(jid)}, ensure_ascii=False).encode()
        t0 = time.time()
        if keep_alive:
            conn.request("POST", "/v1/print-jobs", body, {"Content-Type": "application/json"})
            answer = conn.getresponse()
            answer.read()
            status = answer.status
        else:
            status, _ = w.api("POST", "/v1/print-jobs", {"box": BOX, "job": job(jid)})
        assert status == 201, status
        logged = wait_for(lambda s=seen: _logged_since(w.printer_log, s), 60, "printed")
        rec = json.loads(logged.split(b"\n", 1)[0])
        assert rec["markers"] == [jid], rec
        out.append(Job(t0, float(str(rec["t"]))))
    conn.close()
    return out


async def build_backlog(state: Path, records: int) -> None:
    """The box's journal with `records` sales, written with group commit."""
    journal = await asyncio.to_thread(JournalStore.open, state / "journal.db",
                                      state / "journal.key")
    try:
        chunk = 512
        for start in range(0, records, chunk):
            await asyncio.gather(*(journal.append("sale", sale_body(i))
                                   for i in range(start, min(records, start + chunk))))
    finally:
        await asyncio.to_thread(journal.close)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--backlog", type=int, default=100_000)
    ap.add_argument("--trace", nargs="?", const="", metavar="KEEP",
                    help="HQ and the box mark each hand-over; print the path stage by stage "
                         "(and keep the marks in KEEP)")
    ap.add_argument("--new-connections", action="store_true",
                    help="a new HTTP connection for every job (urllib), as before 2026-12-07")
    ap.add_argument("--through-proxy", action="store_true",
                    help="the box reaches the broker through the tests' cut-proxy, a thread of "
                         "this process (the bench before 2026-12-07), instead of directly")
    ap.add_argument("--poll-s", type=float, default=2.0,
                    help="the box's printer status poll interval (default: the shipped 2.0; "
                         "the tests' 0.2 was used before 2026-12-07 evening)")
    add_json_flag(ap)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        trace = root / "latency.trace"
        if args.trace is not None:
            os.environ[latency_trace.ENV] = str(trace)  # read by HQ and the box at start
        w = World(root, keepalive=20, telemetry_s=30)
        try:
            print(f"building a journal backlog of {args.backlog:,} sales …", flush=True)
            t0 = time.perf_counter()
            asyncio.run(build_backlog(w.state, args.backlog))
            print(f"  written in {time.perf_counter() - t0:.1f} s (group commit)", flush=True)
            records = [json.loads(line) for line in w.box_journal()[:500]]
            batch_bytes = len(JournalBatch(BOX, "0" * 32, 0, tuple(records)).to_json())
            dispatch_bytes = len(PrintDispatch(BOX, job("bench-0"), 0).to_json())

            # Directly to the broker: the tests' cut-proxy is a Python thread of this process,
            # whose turns on the interpreter lock would be counted as the product's latency.
            w.start_box(config=w.write_box_config(
                w.proxy.port if args.through_proxy else w.broker.port, 20, 30, args.poll_s))
            t0 = time.perf_counter()
            total = len(w.box_journal())
            wait_for(lambda: hq_size(w) >= total, 3600, "catch-up")
            catch_up = time.perf_counter() - t0
            n_batches = -(-total // 500)
            raw_tp = asyncio.run(broker_throughput(w.broker.port, b"r" * batch_bytes,
                                                   n_batches))
            wait_for(lambda: hq_size(w) == len(w.box_journal()), 600, "settled")
            assert w.box_journal() == w.hq_journal()

            assert w.box is not None and w.broker.proc is not None
            pids = {"HQ": w.hq.pid, "box": w.box.pid, "printer": w.printer.pid,
                    "broker": w.broker.proc.pid}
            sent, cpu, idle = cpu_per_job(pids, lambda: print_latency(
                w, args.jobs, keep_alive=not args.new_connections))
            lat = [(j.printed - j.sent) * 1000 for j in sent]
            assert w.box is not None
            stages = report(per_job(read_marks(trace, {w.hq.pid: "hq", w.box.pid: "box"}),
                                    sent)) if args.trace is not None else ""
            if args.trace:
                shutil.copy(trace, args.trace)
            wait_for(lambda: len(hq_printed_latency(w.hq_db, "bench-")) >= args.jobs, 120,
                     "HQ holds every printed state")
            known = hq_printed_latency(w.hq_db, "bench-")
            raw = asyncio.run(broker_one_way(w.broker.port, dispatch_bytes, args.jobs))
            commits = raw_commits(root, dispatch_bytes, args.jobs)
        finally:
            w.close()
    print()
    if stages:
        print(f"cloud print path stage by stage ({args.jobs} jobs):\n{stages}\n")
    print(f"cloud print latency, HQ API call → bytes at the printer, {args.jobs} jobs "
          f"({dispatch_bytes} B dispatch):")
    print(f"  storelink        p50 {pct(lat, 50):7.1f} ms   p99 {pct(lat, 99):7.1f} ms   "
          f"mean {statistics.fmean(lat):6.1f} ms")
    print(f"  HQ has printed   p50 {pct(known, 50):7.1f} ms   p99 {pct(known, 99):7.1f} ms   "
          f"mean {statistics.fmean(known):6.1f} ms (HQ accepted → the box's state stored)")
    print("  CPU per job      " + ", ".join(f"{k} {v:.2f} ms" for k, v in cpu.items()) +
          f" (all {sum(cpu.values()):.2f} ms, above each one's idle use; "
          f"{os.cpu_count()} CPUs)")
    print("  CPU idle         " + ", ".join(f"{k} {v:.1f} ms/s" for k, v in idle.items()) +
          " (between jobs: timers and keepalives)")
    print(f"  broker one-way   p50 {pct(raw, 50):7.1f} ms   p99 {pct(raw, 99):7.1f} ms   "
          f"(QoS 1 publish → subscriber, same payload size)")
    # What must stay on the path (docs/protocol.md §7): HQ's commit of the job, the broker's
    # hop, the box's commit of the job with its claim. Everything above it is the software's.
    floor50 = 2 * pct(commits, 50) + pct(raw, 50)
    floor99 = 2 * pct(commits, 99) + pct(raw, 99)
    print(f"  durable commit   p50 {pct(commits, 50):7.1f} ms   p99 {pct(commits, 99):7.1f} ms   "
          "(raw SQLite WAL FULL, one row, same disk)")
    print(f"  floor            p50 {floor50:7.1f} ms   p99 {floor99:7.1f} ms   "
          "(2 durable commits + broker one-way: what the path must keep)")
    print(f"journal catch-up of {total:,} records ({n_batches} batches of ≈{batch_bytes:,} B):")
    print(f"  storelink        {catch_up:7.1f} s   {total / catch_up:9,.0f} records/s "
          "(box ready → HQ verified, stored and countersigned all)")
    mbps = n_batches * batch_bytes / raw_tp / 1e6
    print(f"  broker raw QoS 1 {raw_tp:7.1f} s   {mbps:9.1f} MB/s "
          f"({n_batches} messages of the same size, 8 in flight)")
    base = f"broker QoS 1 one-way, {dispatch_bytes} B"
    emit([Row("cloud print p50: HQ API → printer", pct(lat, 50), "ms", f"{base}, p50",
              pct(raw, 50), better="lower"),
          Row("cloud print p99: HQ API → printer", pct(lat, 99), "ms", f"{base}, p99",
              pct(raw, 99), better="lower"),
          Row("cloud print p50: HQ API → HQ has printed", pct(known, 50), "ms", f"{base}, p50",
              pct(raw, 50), better="lower"),
          Row("cloud print p99: HQ API → HQ has printed", pct(known, 99), "ms", f"{base}, p99",
              pct(raw, 99), better="lower"),
          Row("cloud print p50: HQ API → printer, over its floor", pct(lat, 50), "ms",
              "floor: 2 raw durable SQLite commits + broker one-way, p50", floor50,
              better="lower"),
          Row("cloud print p99: HQ API → printer, over its floor", pct(lat, 99), "ms",
              "floor: 2 raw durable SQLite commits + broker one-way, p99", floor99,
              better="lower"),
          Row(f"journal catch-up, {total:,} records", total / catch_up, "records/s",
              f"raw QoS 1, the same {n_batches} batches of {batch_bytes:,} B", total / raw_tp,
              note=f"{catch_up:.1f} s (box ready → HQ verified, stored, countersigned)")],
         args.json)


if __name__ == "__main__":
    main()
