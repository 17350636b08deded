"""The sales service: sales, refunds, voids, handovers and approvals appended to the journal.

Each request is validated with the journal's own rules before anything is written; an approval
record (when one is needed or given) is appended before the action that references it; the
answer carries the record's seq and hash only after COMMIT. Idempotency keys are kept in a
durable map beside the journal (agent.sales.idempotency). The requests themselves are in
agent.sales.actions (sales, refunds, voids, handovers, the drawer) and agent.sales.closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import KW_ONLY, InitVar, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from agent.config import BoxConfig, Config
from agent.journal.store import JournalStore
from agent.printing.queue.service import PrintQueue
from agent.printing.supervisor import PrinterSupervisor, PrinterUnavailableError
from agent.sales import ConflictError, SalesError
from agent.sales.approvals import ApprovalRefused, Approvals, Approved, approval_body
from agent.sales.attempts import AttemptLog
from agent.sales.audit import action_audit, audited
from agent.sales.drawer import admit_local
from agent.sales.idempotency import Claim, IdempotencyMap, resolve
from agent.sales.ledger import JournalReader
from agent.sales.receipts import (
    PrintRequest,
    check_receipt,
    receipt_data,
    receipt_job,
    receipt_job_id,
)
from agent.sales.requests import RENAMES, input_error
from agent.sales.scanned import CredentialScans
from drivers import InvalidInput
from drivers.label.flowcard import FlowCard
from sync.journal import RecordError
from sync.journal.receipt_qr import from_entry
from sync.journal.record import Entry
from sync.journal.rules import Cosigners
from sync.journal.schema import ID, run, text

log = logging.getLogger(__name__)

RETENTION_MS = 90 * 86400 * 1000
AUDITED_WITH_ACTION = frozenset({"sale", "refund", "void", "handover"})
"""Records whose request's audit record commits with them (docs/local-api.md, audit)."""
"""Done idempotency keys are forgotten after 90 days."""


def genesis_fields(box: BoxConfig) -> dict[str, str]:
    """Store, device and name for the genesis record, each only if the journal accepts it."""
    out: dict[str, str] = {}
    for key, value, rule in (("store", box.store, ID), ("device", box.id, ID),
                             ("name", box.name, text(1, 120))):
        try:
            run(rule, value, key)
        except RecordError:
            continue
        out[key] = value
    return out


def wall_ms() -> int:
    """The wall clock in ms."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Outcome:
    """A request's record, whether this request made it, and what else the answer says."""

    entry: Entry
    created: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        """The API answer: the record's seq and hash (committed), its receipt code, extras."""
        r = self.entry.record()
        out: dict[str, Any] = {"type": r["type"], "seq": r["seq"], "hash": self.entry.hash.hex(),
                               "log": r["log"], "time": r["time"],
                               "receipt_code": from_entry(self.entry).text()}
        if "approval_seq" in r["body"]:
            out["approval_seq"] = r["body"]["approval_seq"]
        out.update(self.extra)
        if not self.created:
            out["replayed"] = True
        return out


@dataclass
class Prepared:
    """A validated request ready to write: its record type, the body to match after a crash,
    and the coroutine function that appends it (and its approval)."""

    type: str
    intent: Mapping[str, Any]
    commit: Callable[[], Awaitable[Entry]]


class Locks:
    """Named asyncio locks that exist only while someone holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, *names: str) -> AsyncIterator[None]:
        """Hold every named lock (taken in sorted order, so two holders never deadlock)."""
        async with contextlib.AsyncExitStack() as stack:
            for name in sorted(set(names)):
                lock, users = self._locks.get(name, (asyncio.Lock(), 0))
                self._locks[name] = (lock, users + 1)
                stack.callback(self._release, name)
                await stack.enter_async_context(lock)
            yield

    def users(self, name: str) -> int:
        """How many hold or wait for lock `name`."""
        return self._locks.get(name, (None, 0))[1]

    def _release(self, name: str) -> None:
        lock, users = self._locks[name]
        if users <= 1:
            del self._locks[name]
        else:
            self._locks[name] = (lock, users - 1)


class HandoverRules(Protocol):
    """The workshop's rules a handover request must pass (agent/station: route order, the
    container's quantity, its supplier), checked under the lock of its task."""

    def lock(self, task: str) -> str:
        """The lock name that serialises the handovers of `task`."""

    async def check_handover(self, card: FlowCard, body: dict[str, Any]) -> dict[str, Any]:
        """The body completed from the task's route; a SalesError (409) names a broken rule."""


@dataclass(eq=False)
class SalesService:
    """Everything the sales API does to the journal, the print queue and the drawer."""

    journal: JournalStore
    config: Config
    queue: PrintQueue
    printers: Mapping[str, PrinterSupervisor]
    reader: JournalReader
    keys: IdempotencyMap
    _: KW_ONLY
    attempts: InitVar[AttemptLog | None] = None
    scans: InitVar[CredentialScans | None] = None
    approvals: Approvals = field(init=False)
    locks: Locks = field(init=False, default_factory=Locks)
    handover_rules: HandoverRules | None = field(init=False, default=None)
    """Set by the workshop when it runs: every `POST /v1/handovers` passes its rules."""

    def __post_init__(self, attempts: AttemptLog | None, scans: CredentialScans | None) -> None:
        self.approvals = Approvals(self.config.journal.supervisors, attempts=attempts, scans=scans)

    @classmethod
    async def start(cls, config: Config, queue: PrintQueue,
                    printers: Mapping[str, PrinterSupervisor], *,
                    cosigners: Cosigners | None = None,
                    scans: CredentialScans | None = None) -> SalesService:
        """Open the journal at {state_dir}/journal.db (key: {state_dir}/keys/box.key, made at
        first start, mode 0600) and resolve idempotency keys a crash left pending.

        `cosigners`: HQ's keys whose cosignatures the journal accepts (docs/journal.md §10);
        `scans`: supervisors' badges scanned on the box's scanners. Wrong approvals are counted
        in {state_dir}/approvals.db.
        """
        state = config.box.state_dir
        db = state / "journal.db"
        journal = await asyncio.to_thread(
            functools.partial(JournalStore.open, db, state / "keys" / "box.key",
                              genesis=genesis_fields(config.box), cosigners=cosigners))
        try:
            reader = await asyncio.to_thread(JournalReader, Path(db))
            keys = await asyncio.to_thread(IdempotencyMap, Path(db))
            attempts = await asyncio.to_thread(AttemptLog, state / "approvals.db")
        except BaseException:
            await asyncio.to_thread(journal.close)
            raise
        service = cls(journal, config, queue, printers, reader, keys, attempts=attempts,
                      scans=scans)
        try:
            await service.recover()
        except BaseException:
            await service.close()
            raise
        return service

    async def close(self) -> None:
        """Close the key map, the reader and the journal (what is queued is written first)."""
        await asyncio.to_thread(self.keys.close)
        await asyncio.to_thread(self.approvals.close)
        await asyncio.to_thread(self.reader.close)
        await asyncio.to_thread(self.journal.close)

    # --- idempotency -----------------------------------------------------------------------

    async def recover(self) -> None:
        """Settle every pending key from the journal; forget done keys past retention."""
        for claim in await asyncio.to_thread(self.keys.pending):
            await self._settle(claim)
        await asyncio.to_thread(self.keys.prune, wall_ms() - RETENTION_MS)

    async def _settle(self, claim: Claim) -> Claim | None:
        def find() -> int | None:
            taken = self.keys.taken(claim.after)
            return resolve(claim, self.reader.records(claim.after, self.journal.head.size),
                           taken)

        seq = await asyncio.to_thread(find)
        if seq is None:
            log.info("idempotency key %r: its %s was never committed; a retry appends it",
                     claim.key, claim.type)
            await asyncio.to_thread(self.keys.forget, claim.key)
            return None
        await asyncio.to_thread(self.keys.finish, claim.key, seq)
        return Claim(claim.key, claim.request, "done", claim.type, None, claim.after, seq)

    async def run(self, key: str | None, request: str, locks: tuple[str, ...],
                  prepare: Callable[[], Awaitable[Prepared]]) -> tuple[Entry, bool]:
        """Prepare and commit once per idempotency key: (the record, True if made now).

        The same key with another request is a ConflictError (409). The work runs as its own
        task: a cancelled request still finishes what it started, holding its key meanwhile.
        """
        task = asyncio.ensure_future(self._run(key, request, locks, prepare))
        task.add_done_callback(_consume)
        return await asyncio.shield(task)

    async def _run(self, key: str | None, request: str, locks: tuple[str, ...],
                   prepare: Callable[[], Awaitable[Prepared]]) -> tuple[Entry, bool]:
        async with contextlib.AsyncExitStack() as stack:
            if key is not None:
                await stack.enter_async_context(self.locks.hold(f"key:{key}"))
                claim = await asyncio.to_thread(self.keys.get, key)
                if claim is not None and claim.state == "pending":
                    claim = await self._settle(claim)
                if claim is not None:
                    if claim.request != request:
                        raise ConflictError("Idempotency-Key", "was already used for a "
                                            f"different request (record {claim.seq})")
                    assert claim.seq is not None
                    entry = await asyncio.to_thread(self.reader.entry, claim.seq)
                    if entry is None:
                        raise SalesError("Idempotency-Key", f"record {claim.seq} is missing")
                    return entry, False
            await stack.enter_async_context(self.locks.hold(*locks))
            prepared = await prepare()
            if key is not None:
                await asyncio.to_thread(self.keys.begin, key, request, prepared.type,
                                        prepared.intent, self.journal.head.size, wall_ms())
            try:
                entry = await prepared.commit()
            except (InvalidInput, SalesError):
                if key is not None:  # refused before its record was written
                    await asyncio.to_thread(self.keys.forget, key)
                raise
            if key is not None:
                await asyncio.to_thread(self.keys.finish, key, entry_seq(entry))
            return entry, True
        raise AssertionError("unreachable")

    # --- writing -----------------------------------------------------------------------------

    async def append(self, type_: str, body: dict[str, Any],
                     renames: Mapping[str, str] = RENAMES) -> Entry:
        """Append one record (an action with its request's audit record, in one commit); a journal
        rule's refusal is InvalidInput naming the request field."""
        audit = action_audit(type_, body) if type_ in AUDITED_WITH_ACTION else None
        try:
            if audit is None:
                appended = await self.journal.append(type_, body)
            else:
                appended = await self.journal.append_audited(type_, body, audit)
        except RecordError as e:
            raise input_error(e, renames) from None
        if audit is not None:
            audited(appended.seq)
        return appended.entry

    def approval_needed(self, action: str, amount: int = 0) -> bool:
        """Whether `action` of `amount` fen needs a supervisor (docs/local-api.md, approvals)."""
        j = self.config.journal
        if action == "day_reopen":
            return True
        if not j.supervisors:
            return False
        if action == "refund":
            return j.approval_refund_over_fen is not None and amount > j.approval_refund_over_fen
        if action == "void":
            return j.approval_void_over_fen is not None and amount > j.approval_void_over_fen
        return action == "drawer_open" and j.approval_drawer

    async def approve(self, raw: object, action: str, amount: int = 0) -> Approved | None:
        """The approver if one is needed or given (a given one must be valid); else None."""
        if raw is None and not self.approval_needed(action, amount):
            return None
        try:
            return await self.approvals.check(raw, action)
        except ApprovalRefused as e:
            # Every refused credential is on the journal, whatever becomes of the request.
            await self.append("audit", {"event": e.event, "actor": "anonymous",
                                        "detail": e.detail[:500]})
            raise

    async def append_approval(self, approved: Approved, action: str, subject: str, *,
                              amount: int | None = None, ref_seq: int | None = None) -> Entry:
        """The approval record, appended before the action that references it."""
        return await self.append("approval", approval_body(approved, action, subject,
                                                           amount=amount, ref_seq=ref_seq))

    async def record(self, seq: object, field: str, type_: str) -> dict[str, Any]:
        """Record `seq`, which must be of `type_`; InvalidInput naming `field` otherwise."""
        if type(seq) is not int or seq < 1:
            raise InvalidInput(field, "must be the seq of a record")
        record = await asyncio.to_thread(self.reader.record, seq)
        if record is None or record["type"] != type_:
            raise InvalidInput(field, f"record {seq} is not a {type_}")
        return record

    # --- printing and the drawer --------------------------------------------------------------

    def store_name(self) -> str:
        """The shop name printed at the top of receipts and Z reports."""
        box = self.config.box
        return box.name or box.store or box.id

    def check_receipt(self, request: PrintRequest, body: Mapping[str, Any]) -> None:
        """Refuse a receipt that would not print, before its sale is written."""
        printer = self.config.printer(request.printer)
        if printer is None:
            raise InvalidInput("print.printer", f"unknown printer {request.printer!r}")
        check_receipt(request, body, printer, self.store_name())

    async def print_receipt(self, request: PrintRequest, entry: Entry) -> dict[str, Any]:
        """Queue the receipt of a committed sale, with its QR code; its job id and state."""
        r = entry.record()
        job_id = receipt_job_id(r["log"], r["seq"])
        data = receipt_data(r["body"], r["time"], request.receipt, self.store_name(),
                            from_entry(entry).text())
        try:
            submitted = await self.queue.submit(receipt_job(job_id, request.printer, data))
        except Exception as e:  # the sale is committed whatever happens to its paper
            log.exception("receipt of sale %s could not be queued", r["seq"])
            return {"id": job_id, "state": None, "error": str(e)}
        return {"id": job_id, "state": submitted.job.state.value}

    async def kick_drawer(self, printer: str) -> dict[str, Any]:
        """Open the drawer on `printer` for a cash sale (no approval); never fails the sale."""
        sup = self.printers.get(printer)
        if sup is None:
            return {"printer": printer, "kicked": False, "reason": "no such printer"}
        try:
            await sup.open_drawer(2)
        except (InvalidInput, PrinterUnavailableError) as e:
            return {"printer": printer, "kicked": False, "reason": str(e)}
        return {"printer": printer, "kicked": True}

    async def gate_drawer(self, request: web.Request, body: object, printer: str) -> None:
        """Opening the drawer outside a sale: agent.sales.drawer's gate (403 without a valid
        approval where one is needed; approval record first; audited as `drawer.open`)."""
        raw: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
        await admit_local(self, request, raw, printer, "a drawer kick on request")

    def order_no(self) -> str:
        """An order number for a sale that names none: XS-<local date and time>-<random>."""
        return f"XS-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.urandom(2).hex().upper()}"


def _consume(task: asyncio.Future[Any]) -> None:
    # The request that started the task may be gone; its outcome is logged, not lost silently.
    if not task.cancelled() and task.exception() is not None:
        log.debug("a request's journal work ended with %r", task.exception())


def entry_seq(entry: Entry) -> int:
    """The seq of a stored entry."""
    return int(entry.record()["seq"])
