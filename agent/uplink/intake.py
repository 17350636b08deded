"""What HQ sends a box, handled: cloud print jobs into the queue, signed commands, and every
state change of a cloud job forwarded into the durable event outbox (docs/protocol.md).

Each handler returns only after its answer is committed to the outbox, so the caller may then
PUBACK the MQTT message; a crash before that makes the broker deliver it again, and the queue's
de-duplication by job id (and the command guard's by nonce) makes the repeat harmless. A long
command (an upgrade) returns once its nonce is kept and answers when it ends; a crash meanwhile
leaves it unanswered, and its nonce refuses it if delivered again — as for any command.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from agent.api.context import AgentContext
from agent.config import ConfigError
from agent.printing.jobs import PrintJob, parse_job, render_inline, render_job
from agent.printing.queue.store import JobConflictError, QueueFullError
from agent.sales.drawer import DrawerRefusedError, job_kick, journal_remote, refuse_remote_job
from drivers import DriverError
from drivers.profiles import PrinterProfile
from sync.latency_trace import mark
from sync.protocol import ProtocolError
from sync.protocol.commands import Command, CommandGuard, CommandRefusedError
from sync.protocol.messages import PrintDispatch
from sync.protocol.outbox import DurableOutbox, KvUpdate

if TYPE_CHECKING:
    from drivers.escpos.encoder import Encoded

log = logging.getLogger(__name__)
JOB_NS, CMD_NS, CURSOR_NS = "job", "cmd", "cursor"
HISTORY_PAGE = 500
LONG_COMMANDS = frozenset({"upgrade"})
"""Commands that may run for minutes (a download, an install): they run beside the handling
of HQ's messages, which goes on taking print jobs and acknowledgements meanwhile; their outcome
is reported when they end."""


def wall_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


class Intake:
    """Cloud print intake, job state forwarding and signed commands for one box."""

    def __init__(self, ctx: AgentContext, outbox: DurableOutbox, guard: CommandGuard,
                 actions: Callable[[Command], Awaitable[None]] | None = None,
                 finished: Callable[[], None] | None = None) -> None:
        self.ctx = ctx
        self.outbox = outbox
        self.guard = guard
        self.actions = actions
        self.finished = finished
        """Called once a long command's outcome is in the outbox (LONG_COMMANDS)."""
        self._long: set[asyncio.Task[str]] = set()
        self._lock = asyncio.Lock()
        self.changed = asyncio.Event()
        """Set whenever events were added to the outbox (the uplink's doorbell)."""

    async def _append(self, events: list[Mapping[str, object]], kv: list[KvUpdate]) -> None:
        if events or kv:
            await asyncio.to_thread(self.outbox.append, events, kv)
        if events:
            self.changed.set()

    # --- cloud print ---------------------------------------------------------------------

    async def print_job(self, payload: bytes) -> str:
        """Commit a dispatched job to the queue, then its intake answer; returns the result."""
        now = wall_ms()
        try:
            d = PrintDispatch.from_json(payload)
            if d.box != self.ctx.config.box.id:
                raise ProtocolError("box", f"addressed to box {d.box}")
        except ProtocolError as e:
            job_id = _job_id_of(payload)
            log.warning("refused a cloud print job %s: %s", job_id, e)
            await self._append([_intake(job_id, "refused", now, str(e))], [])
            return "refused"
        try:
            pj = parse_job(d.job)
            printer = self.ctx.config.printer(pj.printer)
            if printer is None:
                raise DriverError(f"printer: no printer {pj.printer!r} on this box")
            mark("box.intake")
            self.ctx.queue.coming(pj.printer)
            # A small text job (a sales slip, a picking list: 2-3 ms of CPU) is rendered here:
            # to a thread and back would cost the path about another millisecond.
            inline = render_inline(pj, printer.profile, len(payload))
            if inline is None:
                kick, encoded = await asyncio.to_thread(_kick_of, pj, printer.profile)
            else:
                kick, encoded = job_kick(pj, printer.profile, inline.data), inline
            mark("box.checked")
        except DriverError as e:
            await self._append([_intake(d.job_id, "refused", now, str(e))], [])
            return "refused"
        if kick is not None and await self.ctx.queue.get(pj.id) is None:
            field, what = kick
            why = refuse_remote_job(self.ctx.sales, pj, field, what)
            try:
                if why is not None:
                    raise DrawerRefusedError(None, why)
                await journal_remote(self.ctx.journal, f"cloud print job {pj.id} opens the "
                                     f"cash drawer of {pj.printer} ({what}); no approval is "
                                     "configured")
            except DrawerRefusedError as e:
                log.warning("refused cloud print job %s: %s", pj.id, e)
                await self._append([_intake(pj.id, "refused", now, str(e))], [])
                return "refused"
        try:
            submitted = await self.ctx.queue.submit(pj, rendered=(printer.profile, encoded))
            mark("box.queued")
        except JobConflictError:
            await self._append([_intake(pj.id, "refused", now, "job id: already used for a "
                                        "different job")], [])
            return "refused"
        except QueueFullError as e:
            await self._append([_intake(pj.id, "refused", now, f"printer: {e}")], [])
            return "refused"
        result = "accepted" if submitted.created else "duplicate"
        async with self._lock:
            known = await asyncio.to_thread(self.outbox.number, JOB_NS, pj.id)
            rows = await self.ctx.queue.store.history(job_id=pj.id)
            events: list[Mapping[str, object]] = [_intake(pj.id, result, now)]
            last = known or 0
            for r in rows:
                if r.version > last:
                    events.append(_job_event(r))
                    last = r.version
            await self._append(events, [(JOB_NS, pj.id, last, None)])
        mark("box.answered")
        return result

    async def forward_job_states(self) -> int:
        """Forward new state changes of cloud jobs from the queue's history; returns how many."""
        async with self._lock:
            cursor = await asyncio.to_thread(self.outbox.number, CURSOR_NS, "job_events") or 0
            rows = await self.ctx.queue.store.history(after_seq=cursor, limit=HISTORY_PAGE)
            if not rows:
                return 0
            known = await asyncio.to_thread(self.outbox.numbers, JOB_NS)
            events: list[Mapping[str, object]] = []
            kv: list[KvUpdate] = [(CURSOR_NS, "job_events", rows[-1].seq, None)]
            for r in rows:
                last = known.get(r.job_id)
                if last is not None and r.version > last:
                    events.append(_job_event(r))
                    known[r.job_id] = r.version
                    kv.append((JOB_NS, r.job_id, r.version, None))
            await self._append(events, kv)
            return len(events)

    # --- commands ------------------------------------------------------------------------

    async def command(self, payload: bytes) -> str:
        """Check a command (signature, box, expiry, replay), run it, report the outcome; a long
        one (LONG_COMMANDS) is started and reported when it ends ("started")."""
        now = wall_ms()
        try:
            cmd = self.guard.admit(payload, now)
        except CommandRefusedError as e:
            log.warning("refused a command %s %s: %s", e.name or "?", e.nonce or "?", e.reason)
            await self._append([_command(e.nonce, e.name, "refused", now, e.reason)], [])
            return "refused"
        # Remembered before it runs: a crash mid-way must not let the same command run twice.
        await self._append([], [(CMD_NS, cmd.nonce, cmd.expires_ms, None)])
        if cmd.name in LONG_COMMANDS:
            task = asyncio.create_task(self._complete(cmd))
            self._long.add(task)
            task.add_done_callback(self._long.discard)
            return "started"
        return await self._complete(cmd)

    async def _complete(self, cmd: Command) -> str:
        """Run an admitted command and commit its outcome."""
        result, error = "done", ""
        try:
            await self._run(cmd)
        except DrawerRefusedError as e:
            result, error = "refused", str(e)
            log.warning("command %s refused: %s", cmd.name, error)
        except ConfigError as e:
            result, error = "refused", "; ".join(e.errors)
            log.warning("command %s refused: %s", cmd.name, error)
        except Exception as e:
            result, error = "failed", str(e) or type(e).__name__
            log.warning("command %s failed: %s", cmd.name, error)
        await self._append([_command(cmd.nonce, cmd.name, result, wall_ms(), error)], [])
        if cmd.name in LONG_COMMANDS and self.finished is not None:
            self.finished()
        return result

    async def _run(self, cmd: Command) -> None:
        if cmd.name == "test_print":
            printer = str(cmd.args["printer"])
            if self.ctx.config.printer(printer) is None:
                raise ValueError(f"no printer {printer!r}")
            await self.ctx.self_test(printer)
        elif cmd.name == "open_drawer":
            sup = self.ctx.printers.get(str(cmd.args["printer"]))
            if sup is None:
                raise ValueError(f"no printer {cmd.args['printer']!r}")
            pin = cmd.args.get("pin", 2)
            pin = pin if isinstance(pin, int) else 2
            # HQ's signature is the approval: journaled with the command's id before the kick.
            await journal_remote(self.ctx.journal, f"HQ command {cmd.nonce} (signed) opens the "
                                 f"cash drawer of {sup.id}, pin {pin}")
            await sup.open_drawer(pin)
        elif cmd.name == "production_task":
            if self.ctx.production is None:
                raise ValueError("the journal is disabled (journal.enabled = false)")
            await self.ctx.production.add(cmd.args["task"], "hq", cmd.nonce)
        elif self.actions is not None:
            await self.actions(cmd)
        else:
            raise ValueError(f"{cmd.name} is not supported here")

    async def forget_expired_nonces(self) -> None:
        """Drop remembered nonces the guard no longer needs."""
        live = {n for n, _ in self.guard.remembered()}
        stored = await asyncio.to_thread(self.outbox.numbers, CMD_NS)
        old = [n for n in stored if n not in live and stored[n] < wall_ms()]
        if old:
            await asyncio.to_thread(self.outbox.drop, CMD_NS, old)


def _kick_of(job: PrintJob, profile: PrinterProfile) -> tuple[tuple[str, str] | None, Encoded]:
    """Whether a cloud job would open the cash drawer, and its bytes as the printer gets them;
    InvalidInput when its content is bad or costs more than a job may."""
    # Rendering checks content as POST /v1/print-jobs does (print_budget included): bad or too
    # costly content raises here, is refused naming its block, and is never queued.
    encoded = render_job(job, profile)
    return job_kick(job, profile, encoded.data), encoded


def _intake(job_id: str, result: str, at_ms: int, error: str = "") -> dict[str, Any]:
    return {"type": "intake", "id": job_id, "result": result, "error": error[:2000],
            "at_ms": at_ms}


def _command(nonce: str, name: str, result: str, at_ms: int, error: str) -> dict[str, Any]:
    return {"type": "command", "nonce": nonce[:128], "name": name[:64], "result": result,
            "error": error[:2000], "at_ms": at_ms}


def _job_event(r: Any) -> dict[str, Any]:
    return {"type": "job", "id": r.job_id, "printer": r.printer, "state": r.state.value,
            "reason": r.reason.value if r.reason else None, "version": r.version,
            "at_ms": r.at_ms}


def _job_id_of(payload: bytes) -> str:
    """The job id of an undecodable dispatch if one can be read, for the refusal report."""
    import json

    try:
        job_id = json.loads(payload)["job"]["id"]
    except (ValueError, KeyError, TypeError):
        return "?"
    return job_id if isinstance(job_id, str) and 0 < len(job_id) <= 128 else "?"
