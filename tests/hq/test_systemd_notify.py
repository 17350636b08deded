"""The HQ worker under Type=notify: READY=1 once its API listens (even with no broker yet),
WATCHDOG=1 from its event loop, STOPPING=1 on SIGTERM — against the real process."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.e2e.broker import free_port
from tests.e2e.notify_socket import NotifySocket
from tests.e2e.procs import hq_process
from tests.hq.journals import hq_toml


def test_hq_announces_ready_and_feeds_the_watchdog(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    notify = NotifySocket()
    monkeypatch.setenv("NOTIFY_SOCKET", notify.path)  # inherited by the child process
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    hq = hq_process(hq_toml(tmp_path, free_port()), tmp_path / "hq.log").start()
    try:
        ready = notify.next(60)
        assert ready.startswith("READY=1\nSTATUS=ready on port "), ready
        assert ready.endswith(str(hq.port))
        assert [notify.next() for _ in range(3)] == ["WATCHDOG=1"] * 3
        assert hq.proc is not None
        hq.proc.send_signal(signal.SIGTERM)
        assert hq.proc.wait(30) == 0
        assert "STOPPING=1" in notify.drain()
    finally:
        hq.stop()
        notify.close()
