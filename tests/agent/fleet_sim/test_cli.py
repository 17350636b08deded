"""`storelink sim fleet` as a command: prepare the boxes, register them at a real HQ (SQLite),
trade against a real mosquitto, drain, print the counts."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from tests.e2e.broker import Broker, broker, env_with_root
from tests.e2e.procs import hq_process
from tests.hq.journals import HQ_KEY
from tests.hq.workers import worker_toml

__all__ = ["broker"]
PUB = base64.b64encode(HQ_KEY.public_key().public_bytes_raw()).decode()


def storelink(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, check=False,
                          text=True, env=env_with_root(), timeout=240)


def test_sim_fleet_prepares_trades_drains_and_counts(tmp_path: Path, broker: Broker) -> None:
    fleet = ["sim", "fleet", "--boxes", "3", "--dir", str(tmp_path / "fleet"),
             "--hq-pubkey", PUB, "--prefix", "门店", "--seed", "7"]
    bad = storelink(*fleet)
    assert bad.returncode == 2 and "--prefix" in bad.stderr
    fleet[fleet.index("门店")] = "CQ"
    prep = storelink(*fleet, "--prepare")
    assert prep.returncode == 0, prep.stderr
    boxes = Path(prep.stdout.strip()).read_text(encoding="utf-8")
    assert boxes.count("[[boxes]]") == 3 and 'id = "CQ-0003"' in boxes
    hq = hq_process(worker_toml(tmp_path, "hq-1", broker.port, str(tmp_path / "hq.db"), boxes),
                    tmp_path / "hq.log").start()
    try:
        run = storelink(*fleet, "--broker", f"127.0.0.1:{broker.port}", "--hq", hq.url,
                        "--duration-s", "4", "--speed", "600", "--drain-s", "60",
                        "--offline-per-hour", "0", "--json", str(tmp_path / "counts.json"))
    finally:
        hq.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    counts = dict(line.split(" ", 1) for line in run.stdout.splitlines())
    assert counts["boxes"] == "3" and counts["drained"] == "True"
    assert int(counts["sales"]) > 0 and counts["acks_refused"] == "0"
    assert int(counts["records"]) > int(counts["sales"]) + int(counts["handovers"])
    assert (tmp_path / "counts.json").exists()
