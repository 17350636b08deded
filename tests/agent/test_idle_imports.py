"""What an idle daemon holds: started through `storelink agent run` (in a child process, so
that nothing this test session imported counts), it must not have loaded what only a job, a
preview, a label or a scrape needs (docs/deploy.md, "Idle memory")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.agent.conftest import free_port

NOT_IDLE = ("PIL", "barcode", "segno", "prometheus_client", "importlib.metadata", "hq",
            "drivers.label.render", "drivers.label.templates", "drivers.escpos.encoder",
            "drivers.escpos.render", "drivers.escpos.imaging", "agent.printing.preview",
            "agent.journal.cli", "agent.devices.cli", "agent.demo",
            "cryptography.hazmat.primitives.serialization", "usb.backend.libusb0",
            "paho", "sync.mqtt_session", "agent.uplink.link", "drivers.label.interpret",
            "drivers.label.tspl", "drivers.label.zpl", "drivers.escpos.interpreter")
CHILD = """
import asyncio, json, sys
import agent.daemon
from agent import cli

def run(config):
    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(agent.daemon.serve_until_stopped(config, stop))
        await asyncio.sleep(3)
        print(json.dumps(sorted(sys.modules)), flush=True)
        stop.set()
        await task
    asyncio.run(main())
    return 0

agent.daemon.run = run
sys.exit(cli.main(["agent", "run", "--config", sys.argv[1]]))
"""


def test_an_idle_daemon_has_not_loaded_what_only_work_needs(tmp_path: Path) -> None:
    cfg = tmp_path / "box.toml"
    cfg.write_text(f"""
[box]
id = "CQ-JB-001-B1"
name = "江北店前台"
state_dir = "{tmp_path}/state"
[api]
port = {free_port()}
[[printers]]
id = "front"
name = "前台小票机"
profile = "generic-cn-80"
transport = "tcp"
host = "127.0.0.1"
port = {free_port()}
[discovery]
usb = false
serial = false
uevents = false
zeroconf = false
advertise = false
""", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", CHILD, str(cfg)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("["))
    loaded = json.loads(line)
    assert "agent.journal.store" in loaded  # it did start, with the journal
    held = [m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_IDLE)]
    assert held == []
