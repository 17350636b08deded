"""N simulated boxes in one process: prepare their journals, play each box's seeded schedule,
send HQ the cloud print jobs the rhythm asks for, drain until HQ acknowledged everything, count.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from agent.fleet_sim.rhythm import Action, Rhythm, print_job, schedule
from agent.fleet_sim.sim_box import SimBox, Wiring

log = logging.getLogger(__name__)
DRAIN_POLL_S = 0.5


@dataclass(frozen=True)
class FleetPlan:
    """Which boxes, where their files live, how long they trade and how busy they are."""

    boxes: int
    workdir: Path
    prefix: str = "SIM"
    seed: int = 1
    duration_s: float = 30.0
    rhythm: Rhythm = field(default_factory=Rhythm)
    hq_urls: tuple[str, ...] = ()
    """HQ workers' API base URLs the cloud print jobs are submitted to (in turn)."""
    hq_token: str = ""
    drain_s: float = 120.0

    def box_ids(self) -> list[str]:
        """The boxes' ids: PREFIX-0001, PREFIX-0002, …"""
        return [f"{self.prefix}-{i:04d}" for i in range(1, self.boxes + 1)]


@dataclass
class FleetReport:
    """The fleet's counts at the end (all boxes summed)."""

    boxes: int = 0
    records: int = 0
    sales: int = 0
    sales_fen: int = 0
    handovers: int = 0
    day_closes: int = 0
    jobs_submitted: int = 0
    jobs_printed: int = 0
    jobs_repeated: int = 0
    jobs_printed_twice: int = 0
    offline_spells: int = 0
    connects: int = 0
    acks_ok: int = 0
    acks_resend: int = 0
    acks_refused: int = 0
    cosigns_kept: int = 0
    sizes_cosigned_twice: int = 0
    """Journal sizes for which HQ sent two different cosignatures (must be 0)."""
    drained: bool = False
    seconds: float = 0.0
    per_box: dict[str, dict[str, int]] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The counts as `name value` lines, as `storelink sim fleet` prints them."""
        skip = {"per_box", "jobs"}
        return [f"{k} {v}" for k, v in vars(self).items() if k not in skip]


def boxes_toml(keys: dict[str, bytes]) -> str:
    """The `[[boxes]]` tables that register the simulated boxes at HQ."""
    return "".join(f'\n[[boxes]]\nid = "{b}"\npubkeys = ["{k.hex()}"]\n'
                   for b, k in sorted(keys.items()))


def open_boxes(plan: FleetPlan, wiring: Wiring) -> list[SimBox]:
    """Open every box's journal and outbox (creating them on first use), blocking."""
    boxes = [SimBox(b, plan.workdir / b, wiring, plan.seed) for b in plan.box_ids()]
    keys = {b.id: b.open() for b in boxes}
    (plan.workdir / "hq-boxes.toml").write_text(boxes_toml(keys), encoding="utf-8")
    return boxes


class _Jobs:
    """Cloud print jobs sent through HQ's API, each retried on the next worker until stored."""

    def __init__(self, plan: FleetPlan, http: aiohttp.ClientSession) -> None:
        self.urls = plan.hq_urls
        self.headers = {"Authorization": f"Bearer {plan.hq_token}"} if plan.hq_token else {}
        self.http = http
        self.turn = itertools.count()
        self.numbers: dict[str, itertools.count[int]] = {}
        self.accepted: list[str] = []

    async def submit(self, box: str) -> None:
        if not self.urls:
            return
        n = next(self.numbers.setdefault(box, itertools.count(1)))
        body = print_job(box, n)
        job_id = str(body["job"]["id"])  # type: ignore[index]
        for _ in range(60):
            url = self.urls[next(self.turn) % len(self.urls)]
            try:
                async with self.http.post(f"{url}/v1/print-jobs", json=body,
                                          headers=self.headers) as r:
                    if r.status in (200, 201):
                        self.accepted.append(job_id)
                        return
                    log.warning("HQ %s answered %d to job %s", url, r.status, job_id)
            except (aiohttp.ClientError, TimeoutError):
                pass  # that worker is down: the next one takes it
            await asyncio.sleep(0.5)
        log.error("no HQ worker took job %s", job_id)


async def _play(box: SimBox, actions: Sequence[Action], t0: float, jobs: _Jobs) -> None:
    loop = asyncio.get_running_loop()
    for a in actions:
        delay = t0 + a.at_s - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            if a.kind == "sale":
                await box.sell()
            elif a.kind == "handover":
                await box.hand_over()
            elif a.kind == "day_close":
                await box.close_day()
            elif a.kind == "print":
                await jobs.submit(box.id)
            else:
                box.cut(a.length_s)
        except Exception:
            log.exception("box %s: %s failed", box.id, a.kind)


async def run_fleet(plan: FleetPlan, wiring: Wiring) -> FleetReport:
    """Run the fleet for `plan.duration_s`, then drain up to `plan.drain_s`; the counts."""
    started = time.monotonic()
    boxes = await asyncio.to_thread(open_boxes, plan, wiring)
    stop = asyncio.Event()
    report = FleetReport(boxes=len(boxes))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            jobs = _Jobs(plan, http)
            runners = [asyncio.create_task(b.run(stop)) for b in boxes]
            t0 = asyncio.get_running_loop().time()
            plays = [asyncio.create_task(_play(b, schedule(plan.seed, i, plan.rhythm,
                                                           plan.duration_s), t0, jobs))
                     for i, b in enumerate(boxes)]
            await asyncio.gather(*plays)
            report.drained = await _drain(boxes, plan.drain_s)
            stop.set()
            await asyncio.gather(*runners, return_exceptions=True)
            report.jobs = sorted(jobs.accepted)
        await asyncio.to_thread(_count, boxes, report)
    finally:
        stop.set()
        for b in boxes:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(b.close)
    report.seconds = round(time.monotonic() - started, 1)
    return report


async def _drain(boxes: list[SimBox], drain_s: float) -> bool:
    """Wait until HQ has acknowledged every box's records and events; False on time-out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + drain_s
    pending = list(boxes)
    while pending:
        lags = [(b, await b.lag()) for b in pending]
        pending = [b for b, lag in lags if lag != (0, 0)]
        if not pending:
            return True
        if loop.time() > deadline:
            log.warning("%d box(es) not drained, e.g. %s", len(pending),
                        ", ".join(f"{b.id} {lag}" for b, lag in lags if lag != (0, 0))[:500])
            return False
        await asyncio.sleep(DRAIN_POLL_S)
    return True


def _count(boxes: list[SimBox], r: FleetReport) -> None:
    """Sum the boxes' counts into `r` (blocking: reads each outbox)."""
    for b in boxes:
        c = b.counts
        r.records += b.size
        for name in ("sales", "sales_fen", "handovers", "day_closes", "offline_spells",
                     "connects", "acks_ok", "acks_resend", "acks_refused", "cosigns_kept",
                     "jobs_printed", "jobs_repeated"):
            setattr(r, name, getattr(r, name) + getattr(c, name))
        r.sizes_cosigned_twice += sum(1 for notes in c.cosign_notes.values() if len(notes) > 1)
        prints = b.prints()
        r.jobs_printed_twice += sum(1 for n in prints.values() if n > 1)
        r.per_box[b.id] = {"records": b.size, "sales_fen": c.sales_fen, "sales": c.sales,
                           "handovers": c.handovers, "printed": len(prints)}
    r.jobs_submitted = len(r.jobs)
