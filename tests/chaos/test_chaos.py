"""The chaos suite: under load from fleet processes of simulated boxes, a seeded schedule of
faults (HQ workers and fleet processes killed -9 and restarted, the broker restarted, links cut,
PostgreSQL stopped, garbage and replayed MQTT messages); then every invariant of docs/chaos.md.

Reproduce a run with CHAOS_SEED=<seed> (printed first and in the closing counts line)."""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import pytest

from agent.fleet_sim.rhythm import Rhythm
from agent.journal.cli import cmd_verify
from agent.journal.keys import load_key
from sync.journal.checkpoint import ALG_COSIGNATURE_V1, vkey
from sync.journal.record import public_bytes
from tests.chaos.rig import ChaosRig
from tests.chaos.schedule import Fault, fault_schedule
from tests.e2e.postgres import PgCluster
from tests.e2e.world import wait_for
from tests.hq.journals import BOX, HQ_KEY

GROUPS = 2
BOXES_PER_GROUP = 30
TRADE_S = 40.0
RHYTHM = Rhythm(sales_per_hour=40, handovers_per_hour=10, print_jobs_per_hour=8,
                day_close_every_h=0.1, offline_per_hour=1, offline_s=48, speed=12)
FINAL = {"printed", "failed", "cancelled", "expired", "rejected", "unknown"}


def chaos_seed() -> int:
    """CHAOS_SEED from the environment, else a fresh one."""
    text = os.environ.get("CHAOS_SEED", "")
    return int(text) if text else random.SystemRandom().randrange(1, 1 << 31)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.status == 200
        return json.loads(r.read())


def _journal(path: Path) -> tuple[list[bytes], int]:
    """The box's record hashes in order and the sum of its sales."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        hashes = [bytes(r[0]) for r in db.execute("SELECT hash FROM journal ORDER BY seq")]
        total = db.execute("SELECT COALESCE(SUM(json_extract(record, '$.body.total')), 0) "
                           "FROM journal WHERE json_extract(record, '$.type') = 'sale'"
                           ).fetchone()[0]
    return hashes, int(total)


def _cosign_sizes(path: Path) -> list[int]:
    """The journal sizes the box's cosign records countersign, in order."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        return [int(r[0]) for r in db.execute(
            "SELECT json_extract(record, '$.body.size') FROM journal "
            "WHERE json_extract(record, '$.type') = 'cosign' ORDER BY seq")]


def _hq_size(db: str, box: str) -> int:
    with psycopg.connect(db) as c:
        row = c.execute("SELECT size FROM journal_head WHERE box = %s", (box,)).fetchone()
    return int(row[0]) if row else -1


def _box_synced(base: str) -> int | None:
    """The box's journal size if its own metrics say HQ acknowledged all of it, else None.

    Read from one snapshot inside the box: once nothing is unacknowledged no ack can make it
    append a cosign record, so its journal stays as it is (HQ holding the box's size alone is
    not enough: the ack of the last records may still be on its way, and with it a cosign)."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=30) as r:
            text = r.read().decode()
    except OSError:
        return None
    figures = dict(line.split(" ", 1) for line in text.splitlines()
                   if line and not line.startswith("#"))
    if float(figures.get("storelink_sync_unacked_records", "nan")) != 0:
        return None
    return int(float(figures["storelink_journal_head_seq"])) + 1


def _state(base: str, job: str) -> str:
    try:
        return str(_get(f"{base}/v1/print-jobs/{job}")["state"])
    except OSError:
        return ""


def _online(base: str) -> bool:
    try:
        return bool(_get(f"{base}/v1/boxes/{BOX}")["online"])
    except OSError:
        return False


def _prints(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        return {str(k): int(v) for k, v in db.execute(
            "SELECT key, ival FROM kv WHERE ns = 'printed'")}


def _verify(db: Path, key: Path) -> str:
    """`storelink journal verify` of one box's journal with its key and HQ's."""
    hq = vkey("storelink-hq", public_bytes(HQ_KEY), ALG_COSIGNATURE_V1)
    args = argparse.Namespace(db=str(db), checkpoint=None, jobs=1, receipt=[], log=None,
                              hq_pubkey=[hq], pubkey=[public_bytes(load_key(key)).hex()])
    out = io.StringIO()
    cmd_verify(args, out)
    return out.getvalue()


@pytest.mark.timeout(900)
def test_under_load_seeded_faults_lose_double_and_break_nothing(
        tmp_path: Path, own_pg: PgCluster) -> None:
    seed = chaos_seed()
    print(f"\nchaos seed {seed} (reproduce with CHAOS_SEED={seed})")
    faults = fault_schedule(seed, TRADE_S - 5.0)
    rig = ChaosRig(tmp_path, seed, GROUPS, BOXES_PER_GROUP, RHYTHM, own_pg)
    try:
        rig.start()
        run(rig, seed, faults)
    finally:
        rig.close()


def run(rig: ChaosRig, seed: int, faults: list[Fault]) -> None:
    """Trade, inject every fault at its moment, then check every invariant."""
    rig.start_fleets(TRADE_S)
    for f in faults:
        delay = rig.t0 + f.at_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        rig.inject(f)
    rig.daemon.stop_load()
    where = f"seed {seed}; faults: {rig.counts.done}"
    for g, fleet in enumerate(rig.fleets):
        assert fleet.wait(600) == 0, f"fleet {g} did not drain ({where}):\n" + \
            fleet.log.read_text(errors="replace")[-3000:]
    # No process needed repair: the workers and the broker are the ones the faults left.
    for w in rig.workers:
        assert w.proc is not None and w.proc.poll() is None, f"{w.args} died ({where})"
    assert rig.broker.proc is not None and rig.broker.proc.poll() is None
    daemon_db = rig.daemon.state / "journal.db"
    wait_for(lambda: _box_synced(rig.daemon.box.url) == _hq_size(rig.db, BOX)
             == len(_journal(daemon_db)[0]), 300,
             f"HQ holding the box daemon's journal and the box knowing it ({where})")
    wait_for(lambda: all(_state(rig.workers[0].url, j) in FINAL for j in rig.daemon.jobs), 300,
             f"the box daemon's jobs final ({where})")
    assert rig.daemon.box.proc is not None and rig.daemon.box.proc.poll() is None
    wait_for(lambda: _online(rig.workers[1].url), 120,
             f"HQ showing the box daemon online ({where})")

    with psycopg.connect(rig.db) as db:
        rows = db.execute("SELECT box, seq, hash FROM journal ORDER BY box, seq").fetchall()
        heads: dict[str, int] = dict(db.execute("SELECT box, size FROM journal_head").fetchall())
        jobs = [str(r[0]) for r in db.execute("SELECT id FROM jobs").fetchall()]
    held: dict[str, list[bytes]] = {}
    for box, seq, h in rows:
        lst = held.setdefault(box, [])
        assert seq == len(lst), f"box {box}: seq {seq} after {len(lst)} records ({where})"
        lst.append(bytes(h))
    sales: dict[str, int] = {}
    printed: dict[str, int] = {}
    records = 0
    boxes: list[tuple[str, Path, Path, Path | None]] = [
        (box, plan.workdir / box / "journal.db", plan.workdir / box / "journal.key",
         plan.workdir / box / "uplink.db") for plan in rig.plans for box in plan.box_ids()]
    boxes.append((BOX, daemon_db, rig.daemon.key, None))
    for box, db_path, key, uplink in boxes:
        verdict = _verify(db_path, key)
        assert verdict.startswith("valid:"), f"box {box}: {verdict} ({where})"
        mine, sales[box] = _journal(db_path)
        cosigned = _cosign_sizes(db_path)
        assert len(cosigned) == len(set(cosigned)), f"box {box} kept two cosigns of a size"
        records += len(mine)
        assert held.get(box) == mine, f"box {box}: HQ holds {len(held.get(box, []))} of " \
            f"{len(mine)} records or different ones ({where})"
        assert heads[box] == len(mine)
        if uplink is not None:
            printed.update(_prints(uplink))
    rig.counts.records = records
    assert len(rows) == records
    assert jobs, "no print job was accepted"
    assert {j: n for j, n in printed.items() if n > 1} == {}, where
    assert rig.daemon.jobs and rig.daemon.sales, "the box daemon took no sale or no job"
    twice = [j for j, n in Counter(rig.daemon.printed()).items() if n > 1]
    assert twice == [], f"printed twice by the box daemon's printer: {twice} ({where})"
    a, b = (w.url for w in rig.workers)
    for job in jobs:
        views = [_get(f"{u}/v1/print-jobs/{job}") for u in (a, b)]
        assert views[0]["state"] in FINAL, f"job {job}: {views[0]['state']} ({where})"
        assert views[0] == views[1]
    figures = [_get(f"{u}/v1/settlements") for u in (a, b)]
    assert figures[0] == figures[1]
    net: dict[str, int] = {}
    for s in figures[0]["settlements"]:
        net[s["box"]] = net.get(s["box"], 0) + s["totals"]["net"]
    assert {b: net.get(b, 0) for b in sales} == sales, where
    print(rig.counts.line(seed, len(sales)))
