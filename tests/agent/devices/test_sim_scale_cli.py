"""`storelink sim scale`: a real process serving a scale on a pty, driven from its stdin."""

from __future__ import annotations

import subprocess
import sys
import time

import serial

from drivers.scale import Reading, ScaleParser, builtin_protocols


def test_sim_scale_serves_frames_and_takes_commands() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "sim", "scale", "--protocol", "ad-continuous",
         "--weight", "1234", "--interval", "0.02"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stdin is not None
        line = proc.stderr.readline()
        assert line.startswith("scale ad-continuous on /dev/")
        port = serial.Serial(line.split(" on ")[1].strip(), timeout=0.05)
        parser = ScaleParser(builtin_protocols()["ad-continuous"])
        seen: list[Reading] = []
        proc.stdin.write("status motion\nweight 2000\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 10
        while Reading("motion", 2000) not in seen and time.monotonic() < deadline:
            seen += parser.feed(port.read(64))
        assert Reading("motion", 2000) in seen
        port.close()
        proc.stdin.write("unplug\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
