"""`storelink demo` stopped by SIGTERM (as `timeout` or a service manager stop it) stops the
broker, HQ and the box it started, as Ctrl-C does; none is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from agent.demo.run import ROOT
from tests.e2e.world import wait_for


def _running_under(out: Path) -> list[str]:
    """Command lines of the processes whose command line names `out`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(out) in cmd:
            found.append(cmd)
    return found


def test_sigterm_stops_everything_the_demo_started(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    proc = subprocess.Popen([sys.executable, "-m", "agent", "demo", "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("MQTT broker (mosquitto) on"):
                break
        else:
            raise AssertionError("the demo never started its world:\n" + "".join(seen))
        wait_for(lambda: any("hq run" in c for c in _running_under(out)), 60, "HQ running")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        wait_for(lambda: not _running_under(out), 30, "none of the demo's processes left")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for cmd in _running_under(out):  # a failed run must not leave them to the next test
            subprocess.run(["pkill", "-f", cmd.split()[-1]], check=False)
