"""The service runner as a real process: logs to stderr, SIGTERM or SIGINT lets the service
finish its own shutdown, and a failure reaches the caller."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sync.service import run_until_signalled

ROOT = Path(__file__).resolve().parents[2]
SERVICE = """
import asyncio, logging
from sync.service import run_until_signalled

log = logging.getLogger("门店服务")

async def serve(stop):
    log.info("已启动")
    print("ready", flush=True)
    await stop.wait()
    log.info("正在停止")
    await asyncio.sleep(0)
    print("stopped", flush=True)

run_until_signalled(serve)
print("returned", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_the_service_gracefully(sig: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVICE], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out == b"stopped\nreturned\n"
    lines = err.decode("utf-8").splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["INFO 门店服务: 已启动",
                                                         "INFO 门店服务: 正在停止"]


def test_a_failure_of_the_service_reaches_the_caller() -> None:
    async def serve(stop: asyncio.Event) -> None:
        raise OSError("端口已被占用")

    with pytest.raises(OSError, match="端口已被占用"):
        run_until_signalled(serve)
