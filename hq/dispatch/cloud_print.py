"""Cloud printing and commands from HQ's side: accept a job once per id, publish it to its box,
and keep the state history the box reports; sign commands and keep their answers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from msgspec import UNSET, Meta, UnsetType

from hq import HqError
from hq.store import HqStore, JobRow
from sync.latency_trace import mark
from sync.protocol import ProtocolError
from sync.protocol.commands import NAMES, Command, sign_command
from sync.protocol.messages import EventsAck, EventsBatch, PrintDispatch
from sync.protocol.print_job import parse_dispatched
from sync.protocol.topics import Down, check_box_id, down
from validation import Schema, ValidationError
from validation.decode import convert

Publish = Callable[[str, bytes, int], Awaitable[bool]]
"""(topic, payload, message expiry in seconds) → True once the broker acknowledged it."""


class DispatchError(HqError):
    """A request was refused: `status` is the HTTP status, `field` the dotted field at fault."""

    def __init__(self, status: int, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.status = status
        self.field = field
        self.reason = reason


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


T = TypeVar("T")


class Submission(Schema, frozen=True, kw_only=True):
    """POST /v1/print-jobs: a print job for one box (the job is validated in full there)."""

    box: str
    job: dict[str, Any]
    printer: str | UnsetType = UNSET


class CommandRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/boxes/{box}/commands."""

    name: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    lifetime_s: Annotated[int, Meta(ge=1, le=86_400)] | UnsetType = UNSET


def _body(body: object, tp: type[T]) -> T:
    try:
        return convert(body, tp, whole="body")
    except ValidationError as e:
        raise DispatchError(400, e.path, e.reason) from None


def parse_submission(body: object, now_ms: int, default_expiry_s: int) -> JobRow:
    """Validate `{"box", "printer"?, "job"}` and the job's envelope with the box's own rules
    (sync.protocol.print_job); the printer's existence and the content are the box's to check."""
    sub = _body(body, Submission)
    try:
        box = check_box_id(sub.box)
    except ProtocolError as e:
        raise DispatchError(400, "box", e.reason) from None
    job = dict(sub.job)
    printer = job.get("printer") if sub.printer is UNSET else sub.printer
    if not isinstance(printer, str) or not printer:
        raise DispatchError(400, "printer", "must be the id of a printer of the box")
    if job.get("printer", printer) != printer:
        raise DispatchError(400, "job.printer", f"differs from printer {printer!r}")
    job["printer"] = printer
    try:
        # The box's own rules (one implementation): what HQ accepts, the box does not refuse
        # for its envelope; only the box knows its printers and their profiles.
        pj = parse_dispatched(job)
    except ProtocolError as e:
        raise DispatchError(400, e.field, e.reason) from None
    job_id = pj.id
    expires = (now_ms + default_expiry_s * 1000 if pj.expires_at_ms is None
               else pj.expires_at_ms)
    digest = hashlib.sha256(_canonical({"box": box, "job": job})).hexdigest()
    return JobRow(job_id, box, printer, job, digest, expires, now_ms)


def job_view(row: JobRow, states: list[dict[str, Any]], now_ms: int) -> dict[str, Any]:
    """The job as GET /v1/print-jobs/{id} shows it: its state and its history."""
    history: list[dict[str, Any]] = [{"state": "submitted", "at_ms": row.created_ms,
                                      "source": "hq"}]
    if row.dispatched_ms is not None:
        history.append({"state": "dispatched", "at_ms": row.dispatched_ms, "source": "hq"})
    if row.intake is not None:
        history.append({"state": row.intake, "at_ms": row.intake_ms, "error": row.intake_error,
                        "source": "box"})
    history += [{**s, "source": "box"} for s in states]
    if states:
        state = states[-1]["state"]
    elif row.intake == "refused":
        state = "refused"
    elif row.intake is not None:
        state = "accepted"
    elif row.expires_at_ms <= now_ms:
        state = "expired"
        history.append({"state": "expired", "at_ms": row.expires_at_ms, "source": "hq"})
    else:
        state = "dispatched" if row.dispatched_ms is not None else "submitted"
    return {"id": row.id, "box": row.box, "printer": row.printer, "state": state,
            "version": states[-1]["version"] if states else 0,
            "created_ms": row.created_ms, "expires_at_ms": row.expires_at_ms,
            "intake_error": row.intake_error, "history": history}


@dataclass(eq=False)
class Dispatcher:
    """Cloud print jobs and commands on their way to boxes, and what boxes answer."""

    store: HqStore
    publish: Publish
    clock: Callable[[], int]
    key: Ed25519PrivateKey
    default_expiry_s: int
    command_lifetime_s: int

    async def submit(self, body: object) -> tuple[dict[str, Any], bool]:
        """Accept a job (stored before anything is sent) and publish it; a repeat of the same
        job returns the stored one (False) and is not sent again; another body under the same
        id is refused (409)."""
        now = self.clock()
        row = parse_submission(body, now, self.default_expiry_s)
        mark("hq.parsed")
        stored, created = await asyncio.to_thread(self.store.job_create, row)
        mark("hq.stored")
        if not created and stored.body_hash != row.body_hash:
            raise DispatchError(409, "job.id", f"job {row.id} exists with a different body")
        if created:
            await self._send(stored)
        return await self.view(row.id) or {}, created

    async def _send(self, row: JobRow) -> bool:
        now = self.clock()
        left_s = (row.expires_at_ms - now) // 1000
        if left_s <= 0:
            return False
        msg = PrintDispatch(row.box, row.body, now)
        ok = await self.publish(down(row.box, Down.PRINT), msg.to_json(), left_s)
        mark("hq.puback")
        if ok:
            await asyncio.to_thread(self.store.job_dispatched, row.id, self.clock())
            mark("hq.dispatched")
        return ok

    async def redispatch(self) -> int:
        """Publish jobs accepted while HQ had no broker connection; returns how many went out."""
        return await self._send_in_order(
            await asyncio.to_thread(self.store.jobs_undispatched, self.clock()))

    async def redeliver(self, box: str) -> int:
        """A box came online: publish again every unexpired job it has not answered (it may
        never have had a session to queue them in); its queue ignores repeats by job id."""
        return await self._send_in_order(
            await asyncio.to_thread(self.store.jobs_unanswered, box, self.clock()))

    async def _send_in_order(self, rows: list[JobRow]) -> int:
        """Publish `rows` in order, stopping at the first the broker does not take; how many
        went out."""
        sent = 0
        for row in rows:
            if not await self._send(row):
                break
            sent += 1
        return sent

    async def view(self, job_id: str) -> dict[str, Any] | None:
        """The job with its state history, or None."""
        row = await asyncio.to_thread(self.store.job, job_id)
        if row is None:
            return None
        states = await asyncio.to_thread(self.store.job_states, job_id)
        return job_view(row, states, self.clock())

    def apply_events(self, batch: EventsBatch) -> EventsAck:
        """Apply what is new in a box's events batch (blocking); the ack is cumulative."""
        pos = self.store.event_pos(batch.box, batch.stream)
        first = batch.events[0].eseq
        if first <= pos + 1:
            new = [e for e in batch.events if e.eseq > pos]
            if new and self.store.apply_events(batch.box, batch.stream, pos, new, self.clock()):
                pos = new[-1].eseq
            else:
                pos = self.store.event_pos(batch.box, batch.stream)
        return EventsAck(batch.box, batch.stream, pos)

    async def command(self, box: str, body: object) -> dict[str, Any]:
        """Sign and send a command `{"name", "args"?, "lifetime_s"?}` to `box`."""
        req = _body(body, CommandRequest)
        name = req.name
        if name not in NAMES:
            raise DispatchError(400, "name", "must be one of " + ", ".join(NAMES))
        lifetime = self.command_lifetime_s if req.lifetime_s is UNSET else req.lifetime_s
        now = self.clock()
        try:
            cmd = Command.from_obj({"box": box, "name": name, "args": req.args,
                                    "nonce": secrets.token_urlsafe(18), "issued_ms": now,
                                    "expires_ms": now + lifetime * 1000})
        except ProtocolError as e:
            raise DispatchError(400, e.field.removeprefix("cmd."), e.reason) from None
        await asyncio.to_thread(self.store.command_create, cmd.nonce, box, cmd.name,
                                dict(cmd.args), cmd.issued_ms, cmd.expires_ms)
        if await self.publish(down(box, Down.COMMAND), sign_command(cmd, self.key).to_json(),
                              lifetime):
            await asyncio.to_thread(self.store.command_published, cmd.nonce, self.clock())
        return await asyncio.to_thread(self.store.command, cmd.nonce) or {}
