"""A simulated ESC/POS receipt printer: a pure DeviceModel that prints jobs and answers status.

States (`state`): ok, paper_low, paper_out, cover_open, disconnected, slow.
- Status queries (`DLE EOT n`, found by the interpreter, so image data never looks like one) are
  answered from the state; with the cover open the printer does not answer at all.
- While paper_out or cover_open it is not ready: a job that prints anything in that state is
  dropped, the way a printer that is not ready loses what it is sent; it lands in `rejected`
  instead of `jobs()`, so tests can prove the queue held the job back.
- Every drawer pulse (ESC p, DLE DC4 1) is counted in `kicks` and reported to `on_drawer`.
- disconnected: `connected` is False (the shell refuses connections). slow: replies wait
  `slow_delay` seconds and the shell pauses `read_pause` between reads (slow acceptance).
A job ends at a cut or when the host closes its connection; exchanges that print nothing (status
polls) are not jobs. Models are driven by one shell thread; `state` may be set from another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import PRINTING, Cut, Drawer, StatusRequest
from drivers.escpos.render import render_bytes
from drivers.profiles import PrinterProfile, get_profile
from drivers.sim.condition import SimCondition

__all__ = ["STATES", "SimEscposPrinter", "SimJob", "status_byte"]

STATES = ("ok", "paper_low", "paper_out", "cover_open", "disconnected", "slow")
NOT_READY = ("paper_out", "cover_open")
FIXED = 0x12  # bits 1 and 4 of every DLE EOT reply


def status_byte(state: str, n: int, *, drawer_open: bool = False) -> int | None:
    """The reply to `DLE EOT n` in `state` (None: the printer stays silent)."""
    if state in ("cover_open", "disconnected"):
        return None
    out, low = state == "paper_out", state == "paper_low"
    if n == 1:
        return FIXED | (0x04 if drawer_open else 0) | (0x08 if out else 0)
    if n == 2:
        return FIXED | (0x20 if out else 0)
    if n == 3:
        return FIXED
    if n == 4:
        return FIXED | (0x60 if out else 0) | (0x0C if out or low else 0)
    return None


@dataclass(frozen=True)
class SimJob:
    """One job as received: its bytes and whether it was printed or dropped (printer not ready)."""

    data: bytes
    printed: bool


class SimEscposPrinter(SimCondition):
    """Pure ESC/POS printer model for TcpShell / PtyShell (drivers.sim.model.DeviceModel)."""

    STATES = STATES
    NOT_READY = NOT_READY

    def __init__(self, profile: PrinterProfile | None = None, state: str = "ok", *,
                 slow_delay: float = 2.0, slow_read_pause: float = 0.05,
                 on_job: Callable[[int, SimJob], None] | None = None,
                 on_drawer: Callable[[int], None] | None = None) -> None:
        super().__init__(state, slow_delay, slow_read_pause)
        self.profile = profile or get_profile("generic-cn-80")
        self.on_job = on_job
        self.on_drawer = on_drawer
        self.drawer_open = False
        self.kicks: list[int] = []
        """The connector pin of every drawer pulse received (ESC p, DLE DC4 1), in order."""
        self.received = bytearray()
        self._all_jobs: list[SimJob] = []
        self._interp = EscposInterpreter(self.profile)
        self._base = 0  # offset in `received` where the current interpreter's stream began
        self._job_start = 0
        self._job_prints = False
        self._job_dropped = False

    def receive(self, data: bytes) -> bytes:
        """Take host bytes; answer the status queries among them."""
        self.received += data
        self._interp.feed(data)
        return self._handle()

    def end_of_stream(self) -> None:
        """The host closed the connection: print what is pending and close off the job."""
        self._interp.close()
        self._handle()
        self._finish_job(len(self.received))
        self._base = len(self.received)
        self._interp = EscposInterpreter(self.profile)

    def _handle(self) -> bytes:
        reply = bytearray()
        ready = self.ready
        for offset, event in self._interp.events_at():
            if isinstance(event, StatusRequest):
                value = status_byte(self._state, event.n, drawer_open=self.drawer_open)
                if value is not None:
                    reply.append(value)
            elif isinstance(event, PRINTING):
                if isinstance(event, Drawer):
                    self.kicks.append(event.pin)
                    if self.on_drawer is not None:
                        self.on_drawer(event.pin)
                self._job_prints = True
                self._job_dropped |= not ready
                if isinstance(event, Cut):
                    self._finish_job(self._base + offset)
        return bytes(reply)

    def _finish_job(self, end: int) -> None:
        if self._job_prints:
            job = SimJob(bytes(self.received[self._job_start:end]), not self._job_dropped)
            self._all_jobs.append(job)
            if self.on_job is not None:
                self.on_job(len(self._all_jobs), job)
        self._job_start = end
        self._job_prints = self._job_dropped = False

    def all_jobs(self) -> list[SimJob]:
        """Every finished job, printed or dropped, in arrival order."""
        return list(self._all_jobs)

    def jobs(self) -> list[bytes]:
        """The bytes of every job that was printed."""
        return [j.data for j in self._all_jobs if j.printed]

    @property
    def rejected(self) -> list[bytes]:
        """The bytes of every job dropped because the printer was not ready."""
        return [j.data for j in self._all_jobs if not j.printed]

    def render_job(self, i: int) -> Image.Image:
        """The paper of printed job i."""
        return render_bytes(self.jobs()[i], self.profile)
