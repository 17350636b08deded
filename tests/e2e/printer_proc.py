"""A simulated ESC/POS printer in its own process (it outlives a killed box), logging every job.

`python -m tests.e2e.printer_proc --log FILE [--port N]` prints `ready on http://127.0.0.1:PORT`
(PORT is the printer's raw TCP port) and appends one JSON line per finished job:
{"t": unix seconds, "printed": bool, "markers": [job ids found as JOB[id] in the bytes]},
and one per drawer pulse: {"t": unix seconds, "drawer": pin}. SIGUSR1 runs it out of paper,
SIGUSR2 loads paper again (state ok).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import TextIO

from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.shells import TcpShell

MARKER = re.compile(rb"JOB\[([A-Za-z0-9._:-]+)\]")


def read_log(path: Path) -> list[dict[str, object]]:
    """Every job the printer logged so far."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def printed_ids(path: Path) -> list[str]:
    """The job ids found in printed jobs, one entry per time printed."""
    out: list[str] = []
    for rec in read_log(path):
        if rec.get("printed"):
            out += [str(m) for m in rec["markers"]]  # type: ignore[attr-defined]
    return out


def drawer_kicks(path: Path) -> list[int]:
    """The connector pin of every drawer pulse the printer received, in order."""
    return [int(str(rec["drawer"])) for rec in read_log(path) if "drawer" in rec]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--raw", help="also keep each job's bytes as RAW/job-000N.bin")
    args = ap.parse_args()
    with Path(args.log).open("a", encoding="utf-8") as out:
        serve(out, args.port, Path(args.raw) if args.raw else None)


def serve(out: TextIO, port: int, raw: Path | None = None) -> None:
    """Run the printer until SIGTERM, logging each finished job to `out` (and its bytes into
    `raw`)."""
    lock = threading.Lock()
    if raw is not None:
        raw.mkdir(parents=True, exist_ok=True)

    def on_job(n: int, job: SimJob) -> None:
        if raw is not None:
            (raw / f"job-{n:04d}.bin").write_bytes(job.data)
        line = json.dumps({"t": time.time(), "printed": job.printed,
                           "markers": [m.decode() for m in MARKER.findall(job.data)]})
        with lock:
            out.write(line + "\n")
            out.flush()

    def on_drawer(pin: int) -> None:
        with lock:
            out.write(json.dumps({"t": time.time(), "drawer": pin}) + "\n")
            out.flush()

    model = SimEscposPrinter(get_profile("generic-cn-80"), on_job=on_job, on_drawer=on_drawer)
    shell = TcpShell(model, port=port)
    shell.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: setattr(model, "state", "paper_out"))
    signal.signal(signal.SIGUSR2, lambda *_: setattr(model, "state", "ok"))
    print(f"printer ready on http://127.0.0.1:{shell.port}", flush=True)
    stop.wait()
    shell.stop()


if __name__ == "__main__":
    main()
