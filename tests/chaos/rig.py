"""The chaos suite's world, all real processes: PostgreSQL, mosquitto, two cut-proxies (the
boxes' link and HQ's link), HQ workers, fleet processes of simulated boxes, one real box daemon
with a printer whose paper runs out; and the faults."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from agent.fleet_sim.fleet import FleetPlan, open_boxes
from agent.fleet_sim.rhythm import Rhythm
from sync.journal.record import public_bytes
from tests.chaos.daemon_box import DaemonBox
from tests.chaos.garbage import Injector, garbage
from tests.chaos.schedule import Fault
from tests.e2e.broker import Broker, env_with_root, free_port
from tests.e2e.cutproxy import CutProxy
from tests.e2e.postgres import PgCluster
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, HQ_KEY
from tests.hq.workers import wiring, worker_toml

GARBAGE_PER_BURST = 25
REPLAYS_PER_BURST = 10


@dataclass
class Counts:
    """What the faults did, for the closing line."""

    kills: int = 0
    restarts: int = 0
    cuts: int = 0
    postgres_stops: int = 0
    messages: int = 0
    paper_outs: int = 0
    records: int = 0
    done: list[str] = field(default_factory=list)

    def line(self, seed: int, boxes: int) -> str:
        """One quotable line."""
        return (f"chaos seed {seed}: boxes {boxes} kills {self.kills} restarts {self.restarts} "
                f"cuts {self.cuts} postgres_stops {self.postgres_stops} "
                f"paper_outs {self.paper_outs} messages {self.messages} "
                f"records {self.records}")


class FleetProc:
    """`storelink sim fleet` for one group of boxes, as its own process (killable)."""

    def __init__(self, plan: FleetPlan, broker_port: int, hq_urls: list[str], log: Path) -> None:
        self.plan = plan
        self.broker_port = broker_port
        self.hq_urls = hq_urls
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0

    def start(self, duration_s: float, jobs: bool = True) -> None:
        """Trade for `duration_s`, then drain; a restarted fleet sends no new print jobs (its
        job numbering would start again)."""
        p, r = self.plan, self.plan.rhythm
        pub = base64.b64encode(public_bytes(HQ_KEY)).decode()
        argv = [sys.executable, "-m", "agent", "sim", "fleet", "--boxes", str(p.boxes),
                "--dir", str(p.workdir), "--broker", f"127.0.0.1:{self.broker_port}",
                "--hq-pubkey", pub, "--prefix", p.prefix, "--seed", str(p.seed + self.runs),
                "--duration-s", str(duration_s), "--drain-s", str(p.drain_s),
                "--keepalive-s", "5", "--sales-per-hour", str(r.sales_per_hour),
                "--handovers-per-hour", str(r.handovers_per_hour),
                "--print-jobs-per-hour", str(r.print_jobs_per_hour if jobs else 0),
                "--day-close-every-h", str(r.day_close_every_h),
                "--offline-per-hour", str(r.offline_per_hour), "--offline-s", str(r.offline_s),
                "--speed", str(r.speed)]
        for u in self.hq_urls:
            argv += ["--hq", u]
        self.runs += 1
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(argv, stdout=err, stderr=err, env=env_with_root())

    def kill9(self) -> None:
        """SIGKILL the whole fleet process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def wait(self, timeout_s: float) -> int:
        """Its exit status (0: drained)."""
        assert self.proc is not None
        return self.proc.wait(timeout_s)


class ChaosRig:
    """Everything a chaos run needs, started by `start()`, stopped by `close()`."""

    def __init__(self, root: Path, seed: int, groups: int, boxes_per_group: int,
                 rhythm: Rhythm, pg: PgCluster) -> None:
        self.root = root
        self.seed = seed
        self.pg = pg
        self.groups = groups
        self.boxes_per_group = boxes_per_group
        self.rhythm = rhythm
        self.broker = Broker(root / "broker")
        self.box_link = CutProxy(self.broker.port)
        self.hq_link = CutProxy(self.broker.port)
        self.workers: list[Proc] = []
        self.counts = Counts()
        self.t0 = time.monotonic()

    def start(self) -> None:
        """Start the broker, the box daemon's printer and the HQ workers; prepare the fleets."""
        root, seed = self.root, self.seed
        self.broker.start()
        self.db = self.pg.new_database()
        self.plans = [FleetPlan(self.boxes_per_group, root / f"fleet-{g}", prefix=f"C{chr(65 + g)}",
                                seed=seed, rhythm=self.rhythm, drain_s=240.0)
                      for g in range(self.groups)]
        self.daemon = DaemonBox(root / "daemon", self.box_link.port)
        tables = self.daemon.hq_table()
        for plan in self.plans:
            for b in open_boxes(plan, wiring(self.broker.port)):
                b.close()
            tables += (plan.workdir / "hq-boxes.toml").read_text(encoding="utf-8")
        for w in ("hq-1", "hq-2"):
            toml = worker_toml(root / "hq", w, self.hq_link.port, self.db, tables)
            toml.write_text(toml.read_text(encoding="utf-8").replace(
                "\nport = 0\n", f"\nport = {free_port()}\n"), encoding="utf-8")
            self.workers.append(hq_process(toml, root / "hq" / f"{w}.log"))
        for p in self.workers:
            p.start()
        urls = [w.url for w in self.workers]
        self.fleets = [FleetProc(plan, self.box_link.port, urls, root / f"fleet-{g}.log")
                       for g, plan in enumerate(self.plans)]
        self.injector = Injector(self.broker.port, seed)
        self.garbage = garbage(seed, self.targets(), GARBAGE_PER_BURST * 4)

    def box_ids(self) -> list[str]:
        """Every simulated box (not the daemon)."""
        return [b for plan in self.plans for b in plan.box_ids()]

    def targets(self) -> list[str]:
        """Every box bad messages are addressed to: the simulated ones and the daemon."""
        return [*self.box_ids(), BOX]

    def start_fleets(self, duration_s: float) -> None:
        """Start trading now."""
        self.t0 = time.monotonic()
        self.duration_s = duration_s
        for f in self.fleets:
            f.start(duration_s)
        self.daemon.start([w.url for w in self.workers])

    def inject(self, fault: Fault) -> None:
        """Carry out one fault and undo it after its length (blocking)."""
        c = self.counts
        c.done.append(f"{time.monotonic() - self.t0:.1f}s {fault.kind} {fault.length_s:.1f}s")
        if fault.kind == "kill_worker":
            w = self.workers[fault.target % len(self.workers)]
            w.kill9()
            c.kills += 1
            time.sleep(fault.length_s)
            w.start()
            c.restarts += 1
        elif fault.kind == "kill_fleet":
            f = self.fleets[fault.target % len(self.fleets)]
            f.kill9()
            c.kills += 1
            time.sleep(fault.length_s)
            left = self.duration_s - (time.monotonic() - self.t0)
            f.start(max(1.0, left), jobs=False)
            c.restarts += 1
        elif fault.kind == "kill_box":
            self.daemon.box.kill9()
            c.kills += 1
            time.sleep(fault.length_s)
            self.daemon.box.start()
            c.restarts += 1
        elif fault.kind == "paper_out":
            self.daemon.paper(True)
            c.paper_outs += 1
            time.sleep(fault.length_s)
            self.daemon.paper(False)
        elif fault.kind == "restart_broker":
            self.broker.restart()
            c.restarts += 1
        elif fault.kind in ("cut_boxes", "cut_hq"):
            link = self.box_link if fault.kind == "cut_boxes" else self.hq_link
            link.cut()
            c.cuts += 1
            time.sleep(fault.length_s)
            link.restore()
        elif fault.kind == "stop_postgres":
            self.pg.stop()
            c.postgres_stops += 1
            time.sleep(fault.length_s)
            self.pg.start()
        elif fault.kind == "garbage":
            k = fault.target % 4
            part = self.garbage[k * GARBAGE_PER_BURST:(k + 1) * GARBAGE_PER_BURST]
            before = self.injector.sent
            self.injector.burst(part, REPLAYS_PER_BURST, self.targets())
            c.messages += self.injector.sent - before

    def close(self) -> None:
        """Stop everything it started (also after a start that failed half-way)."""
        for name in ("daemon", "injector"):
            part = getattr(self, name, None)
            if part is not None:
                part.close()
        for f in getattr(self, "fleets", []):
            f.kill9()
        for w in getattr(self, "workers", []):
            w.stop()
        self.box_link.close()
        self.hq_link.close()
        self.broker.stop()
