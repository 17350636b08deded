"""Workshop station latency, beside the journal's raw append latency measured in the same run.

    python bench/bench_station.py [--scans 1000] [--json]

Scan → record: from a worker's badge scan completing a pair (flow card scanned first) to the
`handover` record committed (the station's rules, the lock, the signed append, the state fold).
Record → HQ: HQ's tally folding that record and recomputing the task's progress. Baseline: one
signed, durable `audit` append to the same journal. The box's services run in this process
(`agent.daemon.running`), without HTTP and without a scanner device: scans are fed to the
station as the scanner reader would publish them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.config import parse_config
from agent.daemon import running
from agent.station.engine import Scan, classify
from bench.rows import Row, add_json_flag, emit
from drivers.label.flowcard import encode_flow_card
from hq.workshop.progress import Tally

TASK = "SC-20261207-BENCH"


def pct(xs: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) in ms."""
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] * 1000


async def run(scans: int, state: Path) -> dict[str, list[float]]:
    cfg = parse_config({
        "box": {"id": "BENCH-B1", "state_dir": str(state)},
        "discovery": {"usb": False, "serial": False, "zeroconf": False, "uevents": False},
        "scanners": [{"id": "s1", "kind": "serial", "device": str(state / "none")}],
        "stations": [{"id": "ws", "scanner": "s1", "steps": [10]}],
        "journal": {"workers": [{"id": "W001", "name": "赵大勇", "badge": "BADGE-W001"}]}})
    out: dict[str, list[float]] = {"scan": [], "hq": [], "append": []}
    async with running(cfg) as ctx:
        assert ctx.production is not None and ctx.journal is not None
        await ctx.production.add({"task_no": TASK, "qty": scans, "split_size": 1,
                                  "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
                                  "route": [{"step": 10, "name": "下料", "rate_fen": 5}]})
        station = ctx.stations["ws"]
        tally = Tally("BENCH-B1")
        sales = ctx.production.sales
        for r in sales.reader.records(0, sales.journal.head.size - 1):
            tally.feed(r)
        for n in range(1, scans + 1):
            now = time.time_ns() // 1_000_000
            await station.feed(classify(encode_flow_card(TASK, n, scans, 1), now))
            t0 = time.perf_counter()
            result = await station.feed(Scan("worker", now, who="W001"))
            t1 = time.perf_counter()
            assert result["result"] == "ok", result
            for r in sales.reader.records(tally.size, sales.journal.head.size - 1):
                tally.feed(r)
            tally.progress("2026-12-07")
            t2 = time.perf_counter()
            await ctx.journal.append("audit", {"event": "bench.append", "actor": "bench"})
            t3 = time.perf_counter()
            tally.feed(next(iter(sales.reader.records(tally.size, tally.size))))
            out["scan"].append(t1 - t0)
            out["hq"].append(t2 - t1)
            out["append"].append(t3 - t2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scans", type=int, default=1000)
    add_json_flag(ap)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(args.scans, Path(tmp)))
    print(f"{args.scans} handovers by scanning (card, then badge), one station")
    for name, what in (("append", "journal raw append (baseline)"),
                       ("scan", "badge scan → handover committed"),
                       ("hq", "record → HQ progress updated")):
        xs = figures[name]
        print(f"  {what:38s} p50 {pct(xs, 50):7.2f} ms  p99 {pct(xs, 99):7.2f} ms  "
              f"mean {statistics.fmean(xs) * 1000:7.2f} ms")
    ratio = pct(figures["scan"], 50) / pct(figures["append"], 50)
    print(f"  scan → record p50 is {ratio:.1f}× the raw append p50")
    base = "journal raw append (signed, durable)"
    emit([Row(f"workshop scan → handover committed, {q}", pct(figures["scan"], p), "ms",
              f"{base}, {q}", pct(figures["append"], p), better="lower")
          for q, p in (("p50", 50), ("p99", 99))]
         + [Row(f"workshop report: record → HQ progress updated, {q}", pct(figures["hq"], p),
                "ms", f"{base}, {q}", pct(figures["append"], p), better="lower")
            for q, p in (("p50", 50), ("p99", 99))], args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
