"""A simulated ESC/POS printer process whose paper runs out on SIGUSR1 and is refilled on
SIGUSR2; it logs every finished job as tests.e2e.printer_proc does (read with printed_ids).

`python -m tests.chaos.paper_printer --log FILE` prints `ready on http://127.0.0.1:PORT`.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path

from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.shells import TcpShell
from tests.e2e.printer_proc import MARKER


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    lock = threading.Lock()
    with Path(args.log).open("a", encoding="utf-8") as out:

        def on_job(_n: int, job: SimJob) -> None:
            line = json.dumps({"t": time.time(), "printed": job.printed,
                               "markers": [m.decode() for m in MARKER.findall(job.data)]})
            with lock:
                out.write(line + "\n")
                out.flush()

        model = SimEscposPrinter(get_profile("generic-cn-80"), on_job=on_job)
        shell = TcpShell(model, port=0)
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
