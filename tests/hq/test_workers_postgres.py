"""Two HQ worker processes on one PostgreSQL database sharing 200 simulated boxes through
`$share/…` subscriptions; one worker is killed -9 mid-run and restarted. Afterwards HQ holds
exactly every box's records, each journal size was cosigned once, every cloud print job was
printed at most once and is final, and both workers compute the same settlements (equal to the
sum of the sales), workshop figures and alarms."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from agent.fleet_sim.fleet import FleetPlan, FleetReport, open_boxes, run_fleet
from agent.fleet_sim.rhythm import Rhythm
from tests.e2e.broker import Broker, broker
from tests.e2e.procs import Proc, hq_process
from tests.hq.workers import wiring, worker_toml

__all__ = ["broker"]

BOXES = 200
SEED = 16
RHYTHM = Rhythm(sales_per_hour=30, handovers_per_hour=10, print_jobs_per_hour=6,
                day_close_every_h=0.05, offline_per_hour=2, offline_s=48, speed=12)
"""Per box over 20 s: ~2 sales, ~1 handover, a cloud job for one box in three, a day close or
two, an offline spell of 4 s for one box in ten."""
DURATION_S = 20.0
KILL_AT_S = 8.0


@pytest.fixture
def fleet_dir(tmp_path: Path, broker: Broker) -> Path:
    """The simulated boxes' journals, created before HQ starts (HQ registers their keys)."""
    plan = FleetPlan(BOXES, tmp_path / "fleet", seed=SEED)
    for b in open_boxes(plan, wiring(broker.port)):
        b.close()
    return plan.workdir


@pytest.fixture
def workers(tmp_path: Path, broker: Broker, pg_url: str, fleet_dir: Path) -> Iterator[list[Proc]]:
    boxes = (fleet_dir / "hq-boxes.toml").read_text(encoding="utf-8")
    procs = [hq_process(worker_toml(tmp_path, w, broker.port, pg_url, boxes),
                        tmp_path / f"{w}.log") for w in ("hq-1", "hq-2")]
    for p in procs:
        p.start()
    yield procs
    for p in procs:
        p.stop()


async def _get(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
        return await r.json()


def _box_hashes(path: Path) -> list[bytes]:
    with sqlite3.connect(path) as db:
        return [bytes(r[0]) for r in db.execute("SELECT hash FROM journal ORDER BY seq")]


def _cosign_sizes(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [int(r[0]) for r in db.execute(
            "SELECT json_extract(record, '$.body.size') FROM journal "
            "WHERE json_extract(record, '$.type') = 'cosign' ORDER BY seq")]


@pytest.mark.timeout(900)
async def test_two_workers_on_postgresql_hold_every_record_once_through_a_kill(
        tmp_path: Path, broker: Broker, pg_url: str, fleet_dir: Path,
        workers: list[Proc]) -> None:
    plan = FleetPlan(BOXES, fleet_dir, seed=SEED, duration_s=DURATION_S, rhythm=RHYTHM,
                     hq_urls=tuple(w.url for w in workers), drain_s=150.0)
    kills = 0

    async def chaos() -> None:
        nonlocal kills
        await asyncio.sleep(KILL_AT_S)
        workers[0].kill9()
        kills += 1
        await asyncio.to_thread(workers[0].start)

    chaos_task = asyncio.create_task(chaos())
    report: FleetReport = await run_fleet(plan, wiring(broker.port))
    await chaos_task
    print(f"\nfleet seed {SEED}: kills {kills}", *report.lines(), sep="\n")
    assert report.drained, "the fleet did not drain"
    assert (report.acks_refused, report.sizes_cosigned_twice, report.jobs_printed_twice) == (
        0, 0, 0)
    assert report.offline_spells > 0 and report.day_closes > 0 and report.jobs_submitted > 0

    # HQ holds exactly every box's records: same hashes, seq 0..n-1, nothing more.
    with psycopg.connect(pg_url) as db:
        rows = db.execute("SELECT box, seq, hash FROM journal ORDER BY box, seq").fetchall()
        heads: dict[str, int] = dict(db.execute("SELECT box, size FROM journal_head").fetchall())
        states = db.execute("SELECT job_id, COUNT(*), MAX(version) FROM job_states "
                            "GROUP BY job_id").fetchall()
    held: dict[str, list[bytes]] = {}
    for box, seq, h in rows:
        lst = held.setdefault(box, [])
        assert seq == len(lst), f"box {box}: seq {seq} after {len(lst)} records"
        lst.append(bytes(h))
    for box in plan.box_ids():
        mine = _box_hashes(fleet_dir / box / "journal.db")
        assert held.get(box) == mine, f"box {box}: HQ holds {len(held.get(box, []))} of " \
            f"{len(mine)} records or different ones"
        assert heads[box] == len(mine)
        cosigned = _cosign_sizes(fleet_dir / box / "journal.db")
        assert len(cosigned) == len(set(cosigned)), f"box {box} kept two cosigns of a size"
    assert sum(len(v) for v in held.values()) == report.records

    # Cloud print: each accepted job printed once, its history stored once, final.
    assert {s[0]: (s[1], s[2]) for s in states} == {j: (3, 3) for j in report.jobs}
    async with aiohttp.ClientSession() as http:
        for job in report.jobs:
            views = [await _get(http, f"{w.url}/v1/print-jobs/{job}") for w in workers]
            assert views[0]["state"] == "printed" and views[0] == views[1]
        # Any worker computes the same settlements, workshop figures and alarms.
        figures = [[await _get(http, f"{w.url}{path}") for path in (
            "/v1/settlements", "/v1/workshop/pieces", "/v1/alarms")] for w in workers]
    assert figures[0] == figures[1]
    settlements, _, alarms = figures[0]
    assert alarms["alarms"] == []
    net: dict[str, int] = {}
    for s in settlements["settlements"]:
        net[s["box"]] = net.get(s["box"], 0) + s["totals"]["net"]
    assert {b: net.get(b, 0) for b in plan.box_ids()} == {
        b: report.per_box[b]["sales_fen"] for b in plan.box_ids()}
    assert sum(net.values()) == report.sales_fen
