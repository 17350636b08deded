"""The print job state machine as pure functions: a job and `now` in, the next job value out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from agent import AgentError
from drivers.printer_state import PrinterState


class JobState(StrEnum):
    """Where a job is in its life; see docs/local-api.md for the diagram."""

    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class Reason(StrEnum):
    """Why a job failed (only `failed` jobs carry a reason)."""

    OFFLINE = "offline"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    RIBBON_OUT = "ribbon_out"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    BAD_JOB = "bad_job"


class Action(StrEnum):
    """What moved a job; recorded beside every state change in the job's history."""

    SUBMIT = "submit"
    CLAIM = "claim"
    COPY_PRINTED = "copy_printed"
    REQUEUE = "requeue"
    FAIL = "fail"
    RECOVER = "recover"
    REPRINT = "reprint"
    DONE = "done"
    CANCEL = "cancel"
    EXPIRE = "expire"


SETTLED = frozenset({JobState.PRINTED, JobState.FAILED, JobState.EXPIRED, JobState.CANCELED})
"""States a job may be forgotten in once the retention period has passed (never `unknown`)."""

RESOLVABLE = frozenset({JobState.UNKNOWN, JobState.FAILED})


class IllegalTransitionError(AgentError):
    """The job's current state does not allow the requested change."""

    def __init__(self, job: Job, action: Action) -> None:
        super().__init__(f"job {job.id} is {job.state}: cannot {action}")
        self.job = job
        self.action = action


@dataclass(frozen=True)
class Job:
    """A job's queue state (its body lives beside it in the store)."""

    id: str
    printer: str
    state: JobState
    reason: Reason | None
    version: int
    copies: int
    copies_done: int
    created_ms: int
    updated_ms: int
    expires_at_ms: int
    label: str
    seq: int = 0


def _to(job: Job, state: JobState, now_ms: int, reason: Reason | None = None,
        copies_done: int | None = None, expires_at_ms: int | None = None) -> Job:
    return replace(job, state=state, reason=reason, version=job.version + 1, updated_ms=now_ms,
                   copies_done=job.copies_done if copies_done is None else copies_done,
                   expires_at_ms=job.expires_at_ms if expires_at_ms is None else expires_at_ms)


def admit(job_id: str, printer: str, copies: int, label: str, now_ms: int,
          expires_at_ms: int) -> Job:
    """A newly accepted job: queued (version 1), or expired at once if it is already past due."""
    state = JobState.EXPIRED if expires_at_ms <= now_ms else JobState.QUEUED
    return Job(job_id, printer, state, None, 1, copies, 0, now_ms, now_ms, expires_at_ms, label)


def is_overdue(job: Job, now_ms: int) -> bool:
    """True when a queued job has passed its expiry and must never be printed."""
    return job.state is JobState.QUEUED and job.expires_at_ms <= now_ms


def expire(job: Job, now_ms: int) -> Job:
    """queued past expires_at → expired."""
    if not is_overdue(job, now_ms):
        raise IllegalTransitionError(job, Action.EXPIRE)
    return _to(job, JobState.EXPIRED, now_ms)


def hold(job: Job) -> Job:
    """The printer is not ready: the job stays queued, unchanged, and nothing is sent."""
    return job


def claim(job: Job, now_ms: int) -> Job:
    """queued (not overdue) → printing; committed before the first byte goes out."""
    if job.state is not JobState.QUEUED or is_overdue(job, now_ms):
        raise IllegalTransitionError(job, Action.CLAIM)
    return _to(job, JobState.PRINTING, now_ms)


def send_failed(job: Job, now_ms: int, reason: Reason, *, bytes_sent: bool) -> Job:
    """A write failed: before any byte → queued again; after bytes → failed, never retried."""
    if job.state is not JobState.PRINTING:
        raise IllegalTransitionError(job, Action.FAIL if bytes_sent else Action.REQUEUE)
    if bytes_sent:
        return _to(job, JobState.FAILED, now_ms, reason)
    return _to(job, JobState.QUEUED, now_ms)


def park(job: Job, now_ms: int) -> Job:
    """Shutdown between copies (nothing of the next copy sent): queued again, copies kept."""
    return send_failed(job, now_ms, Reason.OFFLINE, bytes_sent=False)


def copy_printed(job: Job, now_ms: int) -> Job:
    """The printer confirmed one more copy: printed when all are done, else still printing."""
    if job.state is not JobState.PRINTING or job.copies_done >= job.copies:
        raise IllegalTransitionError(job, Action.COPY_PRINTED)
    done = job.copies_done + 1
    state = JobState.PRINTED if done == job.copies else JobState.PRINTING
    return _to(job, state, now_ms, copies_done=done)


def confirm_failed(job: Job, now_ms: int, reason: Reason) -> Job:
    """Bytes went out but the status afterwards was not ready: failed with the status reason."""
    if job.state is not JobState.PRINTING:
        raise IllegalTransitionError(job, Action.FAIL)
    return _to(job, JobState.FAILED, now_ms, reason)


def render_failed(job: Job, now_ms: int) -> Job:
    """The job could not be rendered for this printer (nothing was sent): failed, bad_job."""
    return confirm_failed(job, now_ms, Reason.BAD_JOB)


def recover(job: Job, now_ms: int) -> Job:
    """At startup, a job left printing by a crash → unknown; a person decides, never a retry."""
    if job.state is not JobState.PRINTING:
        raise IllegalTransitionError(job, Action.RECOVER)
    return _to(job, JobState.UNKNOWN, now_ms)


def resolve_reprint(job: Job, now_ms: int, expires_at_ms: int) -> Job:
    """A person asks to print an unknown or failed job again: queued, with a fresh expiry.

    Copies already confirmed stay counted, so the reprint tops up to `copies`.
    """
    if job.state not in RESOLVABLE:
        raise IllegalTransitionError(job, Action.REPRINT)
    return _to(job, JobState.QUEUED, now_ms, expires_at_ms=max(expires_at_ms, now_ms + 1))


def resolve_done(job: Job, now_ms: int) -> Job:
    """A person confirms an unknown or failed job came out: printed."""
    if job.state not in RESOLVABLE:
        raise IllegalTransitionError(job, Action.DONE)
    return _to(job, JobState.PRINTED, now_ms)


def cancel(job: Job, now_ms: int) -> Job:
    """queued → canceled; any other state is refused."""
    if job.state is not JobState.QUEUED:
        raise IllegalTransitionError(job, Action.CANCEL)
    return _to(job, JobState.CANCELED, now_ms)


_STATUS_REASONS = {PrinterState.PAPER_OUT: Reason.PAPER_OUT,
                   PrinterState.COVER_OPEN: Reason.COVER_OPEN,
                   PrinterState.RIBBON_OUT: Reason.RIBBON_OUT}
_TRANSPORT_REASONS = {"timeout": Reason.TIMEOUT, "disconnected": Reason.OFFLINE}


def reason_for_status(state: PrinterState) -> Reason:
    """The failure reason for a printer that is not ready (jam, error, pause count as offline).

    A label printer's open print head is cover_open; its ribbon running out is ribbon_out.
    """
    return _STATUS_REASONS.get(state, Reason.OFFLINE)


def reason_for_transport(reason: str) -> Reason:
    """The failure reason for a transport error reason (timeout, disconnected, unreachable, …)."""
    return _TRANSPORT_REASONS.get(reason, Reason.UNREACHABLE)
