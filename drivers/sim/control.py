"""Run a simulated printer from the command line: control lines on stdin, jobs written as files.

Kinds: `escpos` (a receipt printer), `tspl` and `zpl` (label printers); a profile of another
language is replaced by the kind's default (generic-cn-80, tspl-203, zpl-203), said on stdout.
Control lines: `state <STATE>` (receipt: ok, paper_low, paper_out, cover_open, disconnected,
slow; label: ok, paper_out, head_open, ribbon_out, paused, disconnected, slow), `status`,
`jobs`, `delay <SECONDS>` (how long status replies wait in state slow) and, for receipt
printers, `drawer` (drawer pulses received). Every printed receipt job n becomes
job-000n.png and job-000n.bin in out_dir, one dropped because the printer was not ready
job-000n-dropped.bin; labels likewise label-000n.png and label-000n.bin, or
label-000n-dropped.bin.
"""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from drivers import DriverError, InvalidInput
from drivers.escpos.render import render_bytes, to_png
from drivers.label.drawing import ParsedLabel
from drivers.label.render import render_label
from drivers.profiles import PrinterProfile, get_profile
from drivers.sim import label_printer
from drivers.sim.condition import SimCondition
from drivers.sim.label_printer import SimLabelPrinter, SimTsplPrinter, SimZplPrinter
from drivers.sim.printer import STATES, SimEscposPrinter, SimJob
from drivers.sim.shells import PtyShell, TcpShell

__all__ = ["KINDS", "LabelRecorder", "apply_control", "profile_for", "run_printer_sim",
           "write_job", "write_label"]

KINDS = ("escpos", "tspl", "zpl")
DEFAULT_PROFILES = {"escpos": "generic-cn-80", "tspl": "tspl-203", "zpl": "zpl-203"}
# A label ends at the line carrying TSPL `PRINT` or at ZPL `^XZ` (with its line end): feeding
# the model piece by piece at these points tells which bytes made which label.
_LABEL_END = re.compile(rb"\^[Xx][Zz](?:\r?\n)?|\n")
_HOST_QUERIES = (b"\x1b!?", b"\x1b!S", b"~HS", b"~HI", b"\r", b"\n")

OnLabel = Callable[[int, ParsedLabel, bool, bytes], None]


class LabelRecorder:
    """A DeviceModel around a SimLabelPrinter: each finished label goes to `on_label`.

    `on_label(n, label, printed, data)`: n counts from 1, `printed` is False for a label the
    printer refused (not ready), `data` the bytes received since the previous label finished,
    status queries and line ends before the label left out. Labels finished by one read share
    its bytes: the first gets them.
    """

    def __init__(self, model: SimLabelPrinter, on_label: OnLabel) -> None:
        self.model = model
        self.on_label = on_label
        self.printed = 0
        self.dropped = 0
        self._pending = bytearray()
        self._last: dict[bool, ParsedLabel | None] = {True: None, False: None}

    @property
    def state(self) -> str:
        """The simulated printer's state."""
        return self.model.state

    @state.setter
    def state(self, value: str) -> None:
        self.model.state = value

    @property
    def connected(self) -> bool:
        """The model's: False while disconnected."""
        return self.model.connected

    @property
    def reply_delay(self) -> float:
        """The model's reply delay."""
        return self.model.reply_delay

    @property
    def read_pause(self) -> float:
        """The model's pause between reads."""
        return self.model.read_pause

    def receive(self, data: bytes) -> bytes:
        """Feed `data` to the model up to each possible label end; collect what finished."""
        reply = bytearray()
        start = 0
        for m in _LABEL_END.finditer(data):
            reply += self._feed(data[start:m.end()])
            start = m.end()
        if start < len(data):
            reply += self._feed(data[start:])
        return bytes(reply)

    def end_of_stream(self) -> None:
        """The host closed the connection: the model finishes what it can."""
        self.model.end_of_stream()
        self._collect()
        self._pending.clear()

    def _feed(self, piece: bytes) -> bytes:
        self._pending += piece
        reply = self.model.receive(piece)
        self._collect()
        return reply

    def _collect(self) -> None:
        finished = [(label, True) for label in self._new(self.model.labels, True)]
        finished += [(label, False) for label in self._new(self.model.rejected, False)]
        if not finished:
            return
        data = _without_leading_queries(bytes(self._pending))
        self._pending.clear()
        for label, printed in finished:
            if printed:
                self.printed += 1
            else:
                self.dropped += 1
            self.on_label(self.printed + self.dropped, label, printed, data)
            data = b""

    def _new(self, kept: Sequence[ParsedLabel], printed: bool) -> list[ParsedLabel]:
        """Labels added to `kept` since the last look (the model trims its lists: by identity)."""
        last = self._last[printed]
        self._last[printed] = kept[-1] if kept else last
        if last is None:
            return list(kept)
        for i in range(len(kept) - 1, -1, -1):
            if kept[i] is last:
                return list(kept[i + 1:])
        return list(kept)


def _without_leading_queries(data: bytes) -> bytes:
    while True:
        for q in _HOST_QUERIES:
            if data.startswith(q):
                data = data[len(q):]
                break
        else:
            return data


def apply_control(model: SimEscposPrinter | LabelRecorder, line: str) -> str:
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
    if words[0] == "delay" and len(words) == 2:
        return _set_delay(model.model if isinstance(model, LabelRecorder) else model, words[1])
    states: tuple[str, ...]
    if isinstance(model, LabelRecorder):
        if words == ["jobs"]:
            return f"labels {model.printed} printed, {model.dropped} dropped"
        states = label_printer.STATES
        extra = ""
    else:
        if words == ["jobs"]:
            return f"jobs {len(model.jobs())} printed, {len(model.rejected)} dropped"
        if words == ["drawer"]:
            return f"drawer {len(model.kicks)} kicks"
        states = STATES
        extra = " / drawer"
    return (f"error: unknown command; try: state {'|'.join(states)} / status / jobs / "
            f"delay SECONDS{extra}")


def _set_delay(model: SimCondition, text: str) -> str:
    """`delay S`: how long status replies wait while the state is `slow` (0-60 s)."""
    try:
        seconds = float(text)
    except ValueError:
        return "error: delay takes seconds, e.g. delay 2.5"
    if not 0 <= seconds <= 60:
        return "error: delay must be 0-60 seconds"
    model.slow_delay = seconds
    return f"delay {seconds:g}"


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


def write_label(out_dir: Path, n: int, label: ParsedLabel, printed: bool,
                data: bytes) -> list[Path]:
    """Write label n's bytes (and its PNG if printed) into out_dir; return the paths written."""
    stem = f"label-{n:04d}" if printed else f"label-{n:04d}-dropped"
    paths = [out_dir / f"{stem}.bin"]
    paths[0].write_bytes(data)
    if printed:
        png = out_dir / f"{stem}.png"
        png.write_bytes(to_png(render_label(label)))
        paths.append(png)
    return paths


def profile_for(kind: str, profile_name: str) -> tuple[PrinterProfile, str | None]:
    """The profile a `kind` simulator runs, and a note when `profile_name` had to be replaced."""
    if kind not in KINDS:
        raise InvalidInput("kind", f"must be one of {', '.join(KINDS)}")
    profile = get_profile(profile_name)
    if profile.language == kind:
        return profile, None
    default = get_profile(DEFAULT_PROFILES[kind])
    return default, (f"profile {default.name} ({profile.name} speaks {profile.language}, "
                     f"not {kind})")


def run_printer_sim(kind: str = "escpos", profile_name: str = "generic-cn-80", port: int = 9100,
                    pty: bool = False, out_dir: Path | str = "sim-out", state: str = "ok", *,
                    host: str = "127.0.0.1", stdin: TextIO | None = None,
                    stdout: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Serve a simulated printer until SIGINT/SIGTERM (or `stop` is set); return an exit code.

    The first output line says where it listens: `listening tcp HOST PORT` or `listening pty
    PATH`; then the profile note if the profile was replaced, one line per finished job or label
    and one per control line.
    """
    profile, note = profile_for(kind, profile_name)
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
        paths = write_job(out, n, job, escpos)
        say(f"job {n} {'printed' if job.printed else 'dropped'} {' '.join(map(str, paths))}")

    def on_label(n: int, label: ParsedLabel, printed: bool, data: bytes) -> None:
        paths = write_label(out, n, label, printed, data)
        say(f"label {n} {'printed' if printed else 'dropped'} {' '.join(map(str, paths))}")

    model: SimEscposPrinter | LabelRecorder
    if kind == "escpos":
        model = escpos = SimEscposPrinter(profile, state, on_job=on_job)
    else:
        sim = SimTsplPrinter(profile, state) if kind == "tspl" else SimZplPrinter(profile, state)
        model = LabelRecorder(sim, on_label)
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
        if note:
            say(note)

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
