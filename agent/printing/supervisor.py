"""One supervisor per printer: owns its transport in a worker thread, polls, prints its queue."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from agent import AgentError
from agent.config import PrinterConfig, QueueConfig, Target
from agent.events import EventBus
from agent.health.explain import Problem, printer_problem
from agent.printing.jobs import parse_job, render_job
from agent.printing.queue.device import DeviceThread
from agent.printing.queue.lifecycle import reason_for_status, reason_for_transport
from agent.printing.queue.service import PrintQueue, Rendered, wall_ms
from agent.printing.queue.store import Claimed
from agent.printing.status_read import read_status
from drivers import DriverError, InvalidInput
from drivers.printer_state import PrinterState, PrinterStatus
from drivers.transports.base import Transport, TransportError, unsent_bytes, write_chunks
from drivers.transports.open import make_transport, open_transport
from sync.backoff import backoff_delay
from sync.latency_trace import mark

if TYPE_CHECKING:
    from drivers.escpos.encoder import Encoded

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 5.0
"""How long the first status reply after a job may take (a busy printer answers late)."""
DRAWER_TIMEOUT_S = 5.0
CLOSE_TIMEOUT_S = 2.0


class PrinterUnavailableError(AgentError):
    """The printer cannot take a direct command now; `state` says why."""

    def __init__(self, printer: str, state: str, message: str) -> None:
        super().__init__(f"printer {printer} is {state}: {message}")
        self.printer = printer
        self.state = state


@dataclass(frozen=True)
class PrinterSnapshot:
    """What GET /v1/printers shows of one printer."""

    id: str
    name: str
    profile: str
    transport: str
    state: PrinterState
    detail: tuple[str, ...]
    connected: bool
    last_error: str | None
    since_ms: int
    checked_ms: int | None
    printing: str | None
    drawer_open: bool | None = None  # DLE EOT 1 bit 2 (drawer kick-out connector pin 3)

    @property
    def ready(self) -> bool:
        """True when the printer takes jobs now."""
        return self.connected and self.state in (PrinterState.OK, PrinterState.PAPER_LOW)


def _describe(target: Target) -> str:
    try:
        return make_transport(target).description
    except (DriverError, OSError):
        return f"{type(target).__name__.removesuffix('Target').lower()}: {target}"


class PrinterSupervisor:
    """Keeps one printer connected and prints its jobs in order; never blocks another printer."""

    def __init__(self, cfg: PrinterConfig, queue: PrintQueue, bus: EventBus, qcfg: QueueConfig,
                 *, opener: Callable[[Target], Transport] = open_transport,
                 on_attach: Callable[[str], Awaitable[object]] | None = None,
                 rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self.queue = queue
        self.bus = bus
        self.poll_s = qcfg.poll_interval_s
        self.backoff_max_s = qcfg.backoff_max_s
        # The liveness rule (docs/local-api.md): a status reply within the poll interval is
        # online; silence while our bytes still drain into the printer is busy, else offline.
        self.status_timeout_s = qcfg.poll_interval_s
        self._next_poll = 0.0
        self._opener = opener
        self._on_attach = on_attach
        self._rng = rng or random.Random()
        self._dev = DeviceThread(f"printer-{cfg.id}")
        self._conn: Transport | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False
        self._fresh: PrinterStatus | None = None
        self._attached = False
        self._drawer_open: bool | None = None
        self._up: bool | None = None
        self._commands: collections.deque[tuple[bytes, asyncio.Future[None]]] = \
            collections.deque()
        self._idle_ready = False
        self._handed: collections.deque[tuple[Claimed, Rendered | None]] = collections.deque()
        self._asking: asyncio.Future[PrinterStatus | None] | None = None
        self._snap = PrinterSnapshot(cfg.id, cfg.name, cfg.profile.name, _describe(cfg.target),
                                     PrinterState.OFFLINE, ("connecting",), False, None,
                                     wall_ms(), None, None)
        queue.on_queued(cfg.id, self.wake)
        queue.on_idle(cfg.id, self.idle, self._take, self._expect)

    def snapshot(self) -> PrinterSnapshot:
        """The printer's current state."""
        return self._snap

    @property
    def device(self) -> DeviceThread:
        """The worker thread that owns the printer's I/O (the watchdog watches it)."""
        return self._dev

    def problem(self) -> Problem | None:
        """What is wrong, in Chinese with the fix (None when it prints)."""
        return printer_problem(self._snap.state, self._snap.connected, self.cfg.target)

    def wake(self) -> None:
        """A job was queued or a command is waiting: stop idling now."""
        self._wake.set()

    def idle(self) -> bool:
        """True while the worker waits with nothing to do after a ready status: a new job is
        then claimed in the transaction that stores it (PrintQueue.on_idle)."""
        return self._idle_ready and not self._stopping and not self._handed

    def _take(self, claimed: Claimed, rendered: Rendered | None) -> None:
        mark("worker.handed")
        self._handed.append((claimed, rendered))
        self._wake.set()

    def _expect(self) -> None:
        """A job is on its way (PrintQueue.coming): while idle and connected, ask the printer's
        status now, so the job, claimed when it is stored, finds it asked rather than waiting
        for it. The answer counts as the next poll; one already answered (for a job that did
        not come) is asked again."""
        if self.idle() and self._conn is not None and (self._asking is None
                                                       or self._asking.done()):
            self._asking = asyncio.ensure_future(self._poll())

    async def _return_handed(self) -> None:
        """Jobs claimed for this worker that it will not print now go back to the queue."""
        while self._handed:
            await self.queue.park(self._handed.popleft()[0].job.id)

    async def run(self) -> None:
        """Connect, poll and print until stop(); any failure backs off with jitter and retries."""
        attempt = 0
        try:
            while not self._stopping:
                # Cleared before looking at the queue, so a job queued meanwhile is not missed.
                self._wake.clear()
                try:
                    ok = await self._step()
                except Exception:
                    log.exception("printer %s: unexpected failure; reconnecting", self.id)
                    await self._drop(TransportError("disconnected", "internal error"))
                    ok = False
                if ok:
                    attempt = 0
                else:
                    await self._pause(backoff_delay(attempt, min(1.0, self.poll_s),
                                                    self.backoff_max_s, self._rng.random()),
                                      wakeable=False)
                    attempt += 1
        finally:
            with contextlib.suppress(AgentError):
                await self._return_handed()
            await self._close()

    async def _step(self) -> bool:
        """One round: status, waiting commands, then the next job or an idle wait; False when
        the printer could not be reached."""
        mark("worker.step")
        asking, self._asking = self._asking, None
        asked = await asking if asking is not None else None
        # A status asked early serves a timed round or a job announced by coming() (its
        # submitter handed its bytes over too), never a job that was not announced.
        if self._handed and self._handed[0][1] is None:
            asked = None
        status = self._fresh or asked or await self._poll()
        mark("worker.status")
        self._fresh = None
        if status is None:
            await self._return_handed()
            return False
        await self._run_commands()
        if status.ready and not self._stopping:
            if not self._attached:
                self._attached = True
                if self.cfg.self_test_on_attach and self._on_attach is not None:
                    await self._on_attach(self.id)
            # A job claimed when it was stored (queue.on_idle) comes first: nothing was queued
            # before it. Its status was asked just now, while it was checked and stored
            # (_expect) or after, and before any byte.
            claimed, rendered = self._handed.popleft() if self._handed else \
                (await self.queue.claim_next(self.id), None)
            if claimed is not None:
                await self._print(claimed, rendered)
                return True
        await self._return_handed()
        # Polls start every poll_s; one that waited its whole window is followed at once.
        self._idle_ready = status.ready and not self._stopping
        try:
            await self._pause(max(0.0, self._next_poll - time.monotonic()), wakeable=True)
        finally:
            self._idle_ready = False
        return True

    async def stop(self) -> None:
        """Ask the loop to finish: the copy in flight completes, further copies are parked."""
        self._stopping = True
        self._stop.set()
        self._wake.set()

    async def open_drawer(self, pin: int = 2) -> None:
        """Kick the cash drawer now (InvalidInput without a drawer; PrinterUnavailableError if the
        printer is not connected or does not take the command within a few seconds)."""
        from drivers.escpos.document import Document, Drawer
        from drivers.escpos.encoder import encode

        try:
            data = encode(Document((Drawer(pin=pin),)), self.cfg.profile).data
        except InvalidInput as e:
            raise InvalidInput("printer", e.reason) from None
        if not self._snap.connected or self._stopping:
            raise PrinterUnavailableError(self.id, self._snap.state.value, "not connected")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._commands.append((data, fut))
        self._wake.set()
        try:
            await asyncio.wait_for(fut, DRAWER_TIMEOUT_S)
        except TimeoutError:
            raise PrinterUnavailableError(self.id, self._snap.state.value,
                                          "the drawer command was not sent in time") from None

    async def _pause(self, seconds: float, *, wakeable: bool) -> None:
        # A backoff is cut short only by stop(), an idle wait also by a new job or command.
        event = self._wake if wakeable else self._stop
        # asyncio.timeout, not wait_for: no task of its own, so a job handed over reaches
        # this worker on the loop's next turn.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()

    async def _poll(self) -> PrinterStatus | None:
        t = self._conn
        if t is None:
            try:
                t = await self._dev.run(lambda: self._opener(self.cfg.target))
            except TransportError as e:
                self._down(e)
                return None
            except (DriverError, OSError) as e:
                self._down(TransportError("unreachable", str(e)))
                return None
            self._conn = t
        conn = t
        self._next_poll = time.monotonic() + self.poll_s
        try:
            status = await self._dev.run(
                lambda: read_status(conn, self.status_timeout_s, self.status_timeout_s,
                                    self.cfg.profile.language))
        except TransportError as e:
            await self._drop(e)
            return None
        self._set(status, connected=True)
        return status

    async def _drop(self, e: TransportError) -> None:
        t, self._conn = self._conn, None
        if t is not None:
            await self._dev.run(t.close)
        self._down(e)

    def _down(self, e: TransportError) -> None:
        self._set(PrinterStatus(PrinterState.OFFLINE, (e.reason,)), connected=False,
                  error=str(e))

    def _set(self, status: PrinterStatus, *, connected: bool, error: str | None = None) -> None:
        now = wall_ms()
        old = self._snap
        changed = (old.state, old.detail, old.connected) != (status.state, status.detail,
                                                               connected)
        self._snap = replace(old, state=status.state, detail=status.detail, connected=connected,
                             last_error=error or old.last_error, checked_ms=now,
                             since_ms=now if changed else old.since_ms,
                             drawer_open=status.drawer_open)
        if status.drawer_open is not None and status.drawer_open != self._drawer_open:
            self._drawer_open = status.drawer_open
            self.bus.publish({"type": "drawer", "printer": self.id,
                              "open": status.drawer_open, "at_ms": now})
        if not changed:
            return
        up = self._snap.ready
        if up != self._up:
            if up:
                log.info("打印机 %s 就绪 / printer %s up: %s (%s)", self.id, self.id,
                         status.state.value, self._snap.transport)
            else:
                problem = self.problem()
                log.warning("打印机 %s 不可用 / printer %s down: %s — %s %s%s", self.id,
                            self.id, problem.text if problem else "", status.state.value,
                            ",".join(status.detail), f" ({error})" if error else "")
            self._up = up
        self.bus.publish({"type": "printer", "id": self.id, "state": status.state.value,
                          "detail": list(status.detail), "connected": connected,
                          "last_error": self._snap.last_error, "at_ms": now})

    async def _run_commands(self) -> None:
        while self._commands and self._conn is not None:
            data, fut = self._commands.popleft()
            if fut.done():
                continue
            conn = self._conn
            try:
                await self._dev.run(functools.partial(conn.write, data))
            except TransportError as e:
                fut.set_exception(PrinterUnavailableError(self.id, e.reason, str(e)))
                await self._drop(e)
            else:
                fut.set_result(None)

    async def _print(self, claimed: Claimed, rendered: Rendered | None = None) -> None:
        job = claimed.job
        self._snap = replace(self._snap, printing=job.id)
        try:
            await self._print_copies(job.id, job.copies_done, job.copies, claimed, rendered)
        except Exception:
            # Bytes may have gone out: a person decides, as after a crash.
            try:
                await self.queue.abandon(job.id)
            except AgentError as e:
                log.error("job %s stays printing until the next start: %s", job.id, e)
            raise
        finally:
            self._snap = replace(self._snap, printing=None)

    async def _print_copies(self, job_id: str, done: int, copies: int, claimed: Claimed,
                            rendered: Rendered | None) -> None:
        try:
            if rendered is not None and rendered[0] == self.cfg.profile:
                encoded: Encoded = rendered[1]  # what the submitter rendered to check the job
            else:
                pj = parse_job(claimed.body)
                encoded = await self._dev.run(lambda: render_job(pj, self.cfg.profile))
            mark("worker.rendered")
        except DriverError as e:
            log.error("job %s cannot be rendered for printer %s: %s", job_id, self.id, e)
            await self.queue.render_failed(job_id)
            return
        status: PrinterStatus | None = None
        while done < copies:
            conn = self._conn
            if self._stopping or conn is None:
                # Nothing of this copy has gone out: back to the queue, confirmed copies kept.
                await self.queue.park(job_id)
                return
            try:
                await self._dev.run(functools.partial(write_chunks, conn, encoded.chunks,
                                                      encoded.pause_ms / 1000))
                mark("worker.written")
            except TransportError as e:
                await self._drop(e)
                await self.queue.send_failed(job_id, reason_for_transport(e.reason),
                                             bytes_sent=True)
                return
            try:
                status = await self._confirm(conn)
            except TransportError as e:
                await self._drop(e)
                await self.queue.confirm_failed(job_id, reason_for_transport(e.reason))
                return
            self._set(status, connected=True)
            if not status.ready:
                await self.queue.confirm_failed(job_id, reason_for_status(status.state))
                return
            done = (await self.queue.copy_printed(job_id)).copies_done
        self._fresh = status

    async def _confirm(self, conn: Transport) -> PrinterStatus:
        """The status after a copy: asked again for as long as the printer is busy taking the
        copy's bytes (fewer of them left than when it was sent), then once more with the full
        confirm window, so a long raster is not offline; a printer that takes nothing for
        write_timeout is dropped by the transport (TCP user timeout) and is offline."""
        first = max(CONFIRM_TIMEOUT_S, self.status_timeout_s)
        tail = await self._dev.run(functools.partial(unsent_bytes, conn))
        busy = False
        while True:
            status = await self._dev.run(functools.partial(
                read_status, conn, first, self.status_timeout_s, self.cfg.profile.language,
                tail))
            if self._stopping:
                return status
            if status.state is PrinterState.BUSY:
                self._set(status, connected=True)
                busy, first = True, self.status_timeout_s
            elif status.state is PrinterState.OFFLINE and busy:
                # It has just taken the last bytes: the first reply after all of a job was
                # taken may take CONFIRM_TIMEOUT_S, as after a job that went in at once.
                busy, first = False, max(CONFIRM_TIMEOUT_S, self.status_timeout_s)
            else:
                return status

    async def _close(self) -> None:
        if self._asking is not None:
            self._asking.cancel()
            self._asking = None
        t, self._conn = self._conn, None
        for _, fut in self._commands:
            if not fut.done():
                fut.set_exception(PrinterUnavailableError(self.id, "stopping",
                                                          "the daemon stops"))
        self._commands.clear()
        if t is not None:
            # Shielded and bounded: a device thread stuck in I/O must not hold up shutdown.
            closing = asyncio.ensure_future(self._dev.run(t.close))
            done, _ = await asyncio.wait({closing}, timeout=CLOSE_TIMEOUT_S)
            if closing in done and closing.exception() is not None:
                log.debug("closing printer %s: %s", self.id, closing.exception())
        self._dev.stop()
