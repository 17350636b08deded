"""Real processes for end-to-end tests: an HQ worker and a box, started and killed at will."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.e2e.broker import env_with_root

READY = re.compile(r"ready on http://([0-9.]+):(\d+)")


class Proc:
    """A child Python process whose stdout announces `ready on http://HOST:PORT`."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0
        self._lines: list[str] = []
        self._ready = threading.Event()

    def start(self, wait_s: float = 60.0) -> Proc:
        """Start and wait until it is ready."""
        self._ready.clear()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        err = self.log.open("a")
        self.proc = subprocess.Popen([sys.executable, *self.args], stdout=subprocess.PIPE,
                                     stderr=err, text=True, env=env_with_root())
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        deadline = time.monotonic() + wait_s
        while not self._ready.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.args} did not start:\n" + self.log_text()[-4000:])
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._lines.append(line)
            m = READY.search(line)
            if m:
                self.port = int(m.group(2))
                self._ready.set()

    @property
    def url(self) -> str:
        """Base URL of its HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Its process id."""
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        """SIGKILL: no cleanup, no clean MQTT disconnect."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, wait_s: float = 30.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not exit."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stdout_text(self) -> str:
        """What it printed on stdout so far."""
        return "".join(self._lines)

    def log_text(self) -> str:
        """Its stderr so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def hq_process(config: Path, log: Path) -> Proc:
    """`python -m hq.cli run --config FILE` (what `storelink hq run` calls)."""
    return Proc(["-m", "hq.cli", "run", "--config", str(config)], log)


def limited_process(module: str, argv: list[str], nofile: int, log: Path) -> Proc:
    """`module` run as `__main__` with `sys.argv = argv` and at most `nofile` descriptors."""
    code = ("import resource, runpy, sys; "
            f"resource.setrlimit(resource.RLIMIT_NOFILE, ({nofile}, {nofile})); "
            f"sys.argv = {argv!r}; "
            f"runpy.run_module({module!r}, run_name='__main__')")
    return Proc(["-c", code], log)
