"""Run a simulated printer from the command line: control lines on stdin, jobs written as files.

Control lines: `state <ok|paper_low|paper_out|cover_open|disconnected|slow>`, `status`, `jobs`,
`help`. Every printed job n becomes job-000n.png and job-000n.bin in out_dir; a job dropped
because the printer was not ready becomes job-000n-dropped.bin.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from drivers import DriverError, InvalidInput
from drivers.escpos.render import render_bytes, to_png
from drivers.profiles import get_profile
from drivers.sim.printer import STATES, SimEscposPrinter, SimJob
from drivers.sim.shells import PtyShell, TcpShell

__all__ = ["apply_control", "run_printer_sim", "write_job"]

KINDS = ("escpos",)


def apply_control(model: SimEscposPrinter, line: str) -> str:
    """Carry out one control line; return the answer to print (errors start with 'error:')."""
    words = line.split()
    if not words:
        return ""
    if words[0] == "state" and len(words) == 2:
        try:
            model.state = words[1]
        except InvalidInput as e:
            return f"error: {e}"
        return f"state {model.state}"
    if words == ["status"]:
        return f"state {model.state}"
    if words == ["jobs"]:
        return f"jobs {len(model.jobs())} printed, {len(model.rejected)} dropped"
    return f"error: unknown command; try: state {'|'.join(STATES)} / status / jobs"


def write_job(out_dir: Path, n: int, job: SimJob, model: SimEscposPrinter) -> list[Path]:
    """Write job n's bytes (and its PNG if printed) into out_dir; return the paths written."""
    stem = f"job-{n:04d}" if job.printed else f"job-{n:04d}-dropped"
    paths = [out_dir / f"{stem}.bin"]
    paths[0].write_bytes(job.data)
    if job.printed:
        png = out_dir / f"{stem}.png"
        png.write_bytes(to_png(render_bytes(job.data, model.profile)))
        paths.append(png)
    return paths


def run_printer_sim(kind: str = "escpos", profile_name: str = "generic-cn-80", port: int = 9100,
                    pty: bool = False, out_dir: Path | str = "sim-out", state: str = "ok", *,
                    host: str = "127.0.0.1", stdin: TextIO | None = None,
                    stdout: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Serve a simulated printer until SIGINT/SIGTERM (or `stop` is set); return an exit code.

    The first output line says where it listens: `listening tcp HOST PORT` or `listening pty
    PATH`; then one line per finished job and per control line.
    """
    if kind not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stop = stop if stop is not None else threading.Event()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()

    def say(text: str) -> None:
        with lock:
            print(text, file=stdout, flush=True)

    def on_job(n: int, job: SimJob) -> None:
        paths = write_job(out, n, job, model)
        say(f"job {n} {'printed' if job.printed else 'dropped'} {' '.join(map(str, paths))}")

    model = SimEscposPrinter(get_profile(profile_name), state, on_job=on_job)
    shell: TcpShell | PtyShell = PtyShell(model) if pty else TcpShell(model, host, port)
    previous = _install_signals(stop)
    try:
        shell.start()
    except DriverError as e:
        _restore_signals(previous)
        say(f"error: {e}")
        return 1
    try:
        if isinstance(shell, TcpShell):
            say(f"listening tcp {shell.host} {shell.port}")
        else:
            say(f"listening pty {shell.device_path}")

        def control(line: str) -> None:
            answer = apply_control(model, line)
            if answer:
                say(answer)

        reader = threading.Thread(target=_read_lines, args=(stdin, stop, control),
                                  name="sim-control", daemon=True)
        reader.start()
        while not stop.wait(0.2):
            pass
        reader.join()
    finally:
        shell.stop()
        _restore_signals(previous)
    return 0


def _read_lines(stream: TextIO, stop: threading.Event, handle: Callable[[str], None]) -> None:
    """Pass each line of `stream` to `handle` until EOF or `stop`.

    Reads the file descriptor with select, so the thread notices `stop` and can be joined: a
    thread left blocked inside sys.stdin would hold its lock through interpreter shutdown.
    """
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        for line in stream:
            handle(line)
        return
    pending = b""
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        pending += chunk
        while b"\n" in pending:
            raw, pending = pending.split(b"\n", 1)
            handle(raw.decode("utf-8", "replace"))


_Handlers = dict[int, object]


def _install_signals(stop: threading.Event) -> _Handlers:
    """SIGINT/SIGTERM set `stop` (only possible from the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    return {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}


def _restore_signals(previous: _Handlers) -> None:
    for s, h in previous.items():
        signal.signal(s, h)  # type: ignore[arg-type]
