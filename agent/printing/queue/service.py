"""The print queue as the rest of the box sees it: store operations that publish their events."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from agent.config import QueueConfig
from agent.events import Event, EventBus
from agent.printing.jobs import PrintJob
from agent.printing.queue import lifecycle as lc
from agent.printing.queue.lifecycle import Action, Job, JobState, Reason
from agent.printing.queue.store import Change, Claimed, JobNotFoundError, Store, Submitted

if TYPE_CHECKING:
    from drivers.escpos.encoder import Encoded
    from drivers.profiles import PrinterProfile

Clock = Callable[[], int]
Resolution = Literal["reprint", "done"]
Rendered = tuple["PrinterProfile", "Encoded"]
"""A job's bytes for one copy and the profile they were rendered for (render_job)."""
Take = Callable[[Claimed, "Rendered | None"], None]


def wall_ms() -> int:
    """Milliseconds since the Unix epoch (UTC)."""
    return time.time_ns() // 1_000_000


def job_event(change: Change) -> Event:
    """The bus / WebSocket form of one job state change."""
    j = change.job
    return {"type": "job", "id": j.id, "printer": j.printer, "state": j.state.value,
            "reason": j.reason.value if j.reason else None, "version": j.version,
            "copies": j.copies, "copies_done": j.copies_done, "action": change.action.value,
            "at_ms": j.updated_ms}


class PrintQueue:
    """Jobs per printer, durable; every committed change is published on the bus."""

    def __init__(self, store: Store, bus: EventBus, config: QueueConfig,
                 clock: Clock = wall_ms) -> None:
        self.store = store
        self.bus = bus
        self.config = config
        self.clock = clock
        self._wakers: dict[str, Callable[[], None]] = {}
        self._idle: dict[str, tuple[Callable[[], bool], Take]] = {}
        self._expect: dict[str, Callable[[], None]] = {}

    def on_queued(self, printer: str, wake: Callable[[], None]) -> None:
        """Call `wake` whenever a job becomes queued for `printer` (its worker's doorbell)."""
        self._wakers[printer] = wake

    def on_idle(self, printer: str, idle: Callable[[], bool], take: Take,
                expect: Callable[[], None] | None = None) -> None:
        """While `idle()` (the worker waits with nothing to do and its printer was ready), a new
        job for `printer` is claimed in the transaction that stores it and given to `take` with
        the bytes the submitter rendered, if any: one durable commit instead of two, one
        rendering instead of two (docs/local-api.md, "States"). `expect` is called when a job
        for `printer` is about to be checked and submitted (coming())."""
        self._idle[printer] = (idle, take)
        if expect is not None:
            self._expect[printer] = expect

    def coming(self, printer: str) -> None:
        """A job for `printer` is being checked and will be submitted: its idle worker may ask
        the printer's status meanwhile instead of after the job is stored."""
        if (expect := self._expect.get(printer)) is not None:
            expect()

    def default_expiry_ms(self, label: str, now_ms: int) -> int:
        """When a job without `expires_at` expires: the template's setting or the default."""
        seconds = self.config.expiry_by_template.get(label, self.config.default_expiry_s)
        return now_ms + seconds * 1000

    def _publish(self, changes: Sequence[Change]) -> None:
        for c in changes:
            self.bus.publish(job_event(c))
            if c.job.state is JobState.QUEUED and (wake := self._wakers.get(c.job.printer)):
                wake()

    async def submit(self, pj: PrintJob, audit: dict[str, Any] | None = None,
                     rendered: Rendered | None = None) -> Submitted:
        """Accept a job (committed on return, with its `audit` record body in the outbox) or
        return the one already stored under its id. `rendered`: the job's bytes as the caller
        rendered them to check it, for its worker to print without rendering again."""
        now = self.clock()
        expires = pj.expires_at_ms if pj.expires_at_ms is not None \
            else self.default_expiry_ms(pj.label, now)
        worker = self._idle.get(pj.printer)
        result = await self.store.submit(pj, now, expires, self.config.max_depth, audit,
                                         claim=worker is not None and worker[0]())
        if result.created:
            # The worker first: its printer gets the bytes while the events are told.
            if result.claimed is not None and worker is not None:
                worker[1](result.claimed, rendered)
            changes = [Change(result.job, Action.SUBMIT)]
            if result.claimed is not None:
                changes.append(Change(result.claimed.job, Action.CLAIM))
            self._publish(changes)
        return result

    async def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return await self.store.get(job_id)

    async def list_jobs(self, states: Sequence[JobState] = (), printer: str | None = None,
                   limit: int = 50, before_seq: int | None = None) -> list[Job]:
        """Jobs newest first."""
        return await self.store.list_jobs(states, printer, limit, before_seq)

    async def _step(self, job_id: str, fn: Callable[[Job], Job], action: Action) -> Job:
        change = await self.store.transition(job_id, fn, action)
        self._publish([change])
        return change.job

    async def cancel(self, job_id: str) -> Job:
        """queued → canceled (IllegalTransitionError otherwise, JobNotFoundError if unknown id)."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.cancel(j, now), Action.CANCEL)

    async def resolve(self, job_id: str, resolution: Resolution) -> Job:
        """A person's decision on an unknown or failed job: print it again, or it is done."""
        now = self.clock()
        if resolution == "done":
            return await self._step(job_id, lambda j: lc.resolve_done(j, now), Action.DONE)
        job = await self.store.get(job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        expires = self.default_expiry_ms(job.label, now)
        return await self._step(job_id, lambda j: lc.resolve_reprint(j, now, expires),
                                Action.REPRINT)

    async def claim_next(self, printer: str) -> Claimed | None:
        """Expire overdue jobs of `printer`, then mark its oldest queued job printing."""
        changes, claimed = await self.store.claim_next(printer, self.clock())
        self._publish(changes)
        return claimed

    async def copy_printed(self, job_id: str) -> Job:
        """The printer confirmed one more copy."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.copy_printed(j, now), Action.COPY_PRINTED)

    async def send_failed(self, job_id: str, reason: Reason, *, bytes_sent: bool) -> Job:
        """A write failed: queued again if nothing went out, else failed for a person."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.send_failed(j, now, reason,
                                                                 bytes_sent=bytes_sent),
                                Action.FAIL if bytes_sent else Action.REQUEUE)

    async def abandon(self, job_id: str) -> Job:
        """The worker lost track of a job it was printing: unknown, for a person to decide."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.recover(j, now), Action.RECOVER)

    async def park(self, job_id: str) -> Job:
        """Shutdown between copies: the job goes back to the queue with its copies counted."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.park(j, now), Action.REQUEUE)

    async def confirm_failed(self, job_id: str, reason: Reason) -> Job:
        """The status after sending was not ready."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.confirm_failed(j, now, reason), Action.FAIL)

    async def render_failed(self, job_id: str) -> Job:
        """The job could not be rendered for its printer (nothing sent)."""
        now = self.clock()
        return await self._step(job_id, lambda j: lc.render_failed(j, now), Action.FAIL)

    async def expire_due(self, printer: str | None = None) -> list[Job]:
        """Expire every overdue queued job (of one printer, or all)."""
        changes = await self.store.expire_due(self.clock(), printer)
        self._publish(changes)
        return [c.job for c in changes]

    async def recover(self) -> list[Job]:
        """At startup, before any worker runs: jobs left printing become unknown."""
        changes = await self.store.recover(self.clock())
        self._publish(changes)
        return [c.job for c in changes]

    async def prune(self) -> int:
        """Forget settled jobs older than queue.retention_days."""
        return await self.store.prune(self.clock() - self.config.retention_days * 86_400_000)

    async def depths(self) -> dict[str, int]:
        """Queued jobs per printer."""
        return await self.store.depths()
