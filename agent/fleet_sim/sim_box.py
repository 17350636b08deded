"""One simulated box: a real signed journal (its own SQLite file), a real durable event outbox,
a real MQTT session speaking docs/protocol.md to HQ, and a simulated `front` printer that prints
each cloud job once.

It uploads and resends like the daemon's uplink (sync.protocol.outbox windows; only HQ's
acknowledgement advances them), keeps HQ's countersignatures as cosign records, and answers
cloud print jobs with intake and job-state events. It is light: no HTTP API, no devices.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from agent.fleet_sim.rhythm import handover_body, sale_body
from agent.journal.keys import load_key
from agent.journal.store import JournalStore
from agent.uplink.intake import JOB_NS, wall_ms
from agent.uplink.link import read_records
from sync.journal import JournalError, RecordError
from sync.journal.record import public_bytes
from sync.journal.rules import Cosigners
from sync.mqtt_session import Connected, Disconnected, Message, MqttSession, SessionConfig, Will
from sync.protocol import ProtocolError
from sync.protocol import outbox as ob
from sync.protocol.birth import next_bdseq
from sync.protocol.messages import (
    Birth,
    Death,
    DeviceState,
    EventsAck,
    EventsBatch,
    JournalAck,
    JournalBatch,
    JournalPosition,
    PrintDispatch,
    event_from_obj,
)
from sync.protocol.outbox import DurableOutbox
from sync.protocol.topics import Down, Up, box_down_filter, parse_topic, up

log = logging.getLogger(__name__)
PRINTED_NS = "printed"
PUBLISH_WAIT_S = 10.0
IDLE_S = 0.5
CHINA = timezone(timedelta(hours=8))


@dataclass
class BoxCounts:
    """What one simulated box did and saw."""

    sales: int = 0
    sales_fen: int = 0
    handovers: int = 0
    day_closes: int = 0
    offline_spells: int = 0
    connects: int = 0
    acks_ok: int = 0
    acks_resend: int = 0
    acks_refused: int = 0
    cosigns_kept: int = 0
    jobs_printed: int = 0
    jobs_repeated: int = 0
    """Dispatches of a job already printed (answered `duplicate`, not printed again)."""
    cosign_notes: dict[int, set[str]] = field(default_factory=dict)
    """Every distinct cosigned note HQ sent, by journal size."""


@dataclass(frozen=True)
class Wiring:
    """Where a simulated box reaches HQ, and HQ's key its journal accepts cosignatures from."""

    host: str
    port: int
    cosigners: Cosigners
    keepalive_s: int = 10
    batch_records: int = 200
    resend_after_ms: int = 5_000


class SimBox:
    """A light box: call `open()` (blocking) once, then `run()`; `cut()` for an offline spell."""

    def __init__(self, box_id: str, workdir: Path, wiring: Wiring, seed: int) -> None:
        self.id = box_id
        self.dir = workdir
        self.wiring = wiring
        self.rng = random.Random(f"storelink-box:{seed}:{box_id}")
        self.counts = BoxCounts()
        self.journal: JournalStore | None = None
        self.outbox: DurableOutbox | None = None
        self.connected = False
        self.bdseq = 0
        self._jw = ob.Window()
        self._ew = ob.Window()
        self._cosign_types: dict[int, bool] = {}
        self._bell = asyncio.Event()
        self._cut = asyncio.Event()
        self._offline_s = 0.0
        self._lock = asyncio.Lock()
        self._orders = itertools.count(1)

    # --- files ---------------------------------------------------------------------------

    def open(self) -> bytes:
        """Open (creating on first use) the box's journal and outbox; its public key."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.journal = JournalStore.open(self.dir / "journal.db", self.dir / "journal.key",
                                         cosigners=self.wiring.cosigners, max_batch=64)
        self.outbox = DurableOutbox(self.dir / "uplink.db")
        return public_bytes(load_key(self.dir / "journal.key"))

    def close(self) -> None:
        """Close the journal and the outbox."""
        if self.journal is not None:
            self.journal.close()
        if self.outbox is not None:
            self.outbox.close()

    @property
    def size(self) -> int:
        """Records in the box's journal."""
        return self.journal.head.size if self.journal is not None else 0

    async def lag(self) -> tuple[int, int] | None:
        """(journal records, events) HQ has not acknowledged yet; None while disconnected."""
        box = self.outbox
        assert box is not None
        acked, head = await asyncio.to_thread(lambda: (box.acked(), box.head()))
        return (max(0, self.size - self._jw.acked), head - acked) if self.connected else None

    # --- business ------------------------------------------------------------------------

    async def sell(self) -> None:
        """Record one sale."""
        assert self.journal is not None
        body = sale_body(self.rng, next(self._orders))
        await self.journal.append("sale", body)
        self.counts.sales += 1
        self.counts.sales_fen += int(str(body["total"]))
        self._bell.set()

    async def hand_over(self) -> None:
        """Record one workshop handover."""
        assert self.journal is not None
        await self.journal.append("handover", handover_body(self.rng, f"{self.id}-RW-1"))
        self.counts.handovers += 1
        self._bell.set()

    async def close_day(self) -> None:
        """Close the business day (Z report)."""
        assert self.journal is not None
        day = datetime.now(UTC).astimezone(CHINA).date().isoformat()
        await self.journal.day_close(day, till="T1", cashier="C001")
        self.counts.day_closes += 1
        self._bell.set()

    def cut(self, length_s: float) -> None:
        """Drop the connection without DISCONNECT and stay away `length_s` seconds."""
        if self.connected:
            self._offline_s = length_s
            self._cut.set()

    # --- session -------------------------------------------------------------------------

    def _will(self) -> Will:
        assert self.outbox is not None
        self.bdseq = next_bdseq(self.outbox.number("session", "bdseq") or 0, wall_ms())
        self.outbox.put([("session", "bdseq", self.bdseq, None)])
        return Will(up(self.id, Up.DEATH), Death(self.id, self.bdseq).to_json(), 1, True)

    def _session(self) -> MqttSession:
        w = self.wiring
        return MqttSession(SessionConfig(
            w.host, w.port, f"storelink-box-{self.id}", clean_start=False,
            session_expiry_s=86_400, keepalive_s=w.keepalive_s, manual_ack=True,
            reconnect_min_s=0.2, reconnect_max_s=3.0,
            subscriptions=((box_down_filter(self.id), 1),)), will_factory=self._will)

    async def run(self, stop: asyncio.Event) -> None:
        """Stay connected (reconnecting by itself) until `stop`; offline spells on `cut()`.
        A session task that fails is logged and the session made again, as after a drop."""
        while not stop.is_set():
            session = self._session()
            await session.start()
            tasks = [asyncio.create_task(self._pump(session)),
                     asyncio.create_task(self._ticker(session))]
            waits: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait()),
                                              asyncio.create_task(self._cut.wait())]
            await asyncio.wait([*tasks, *waits], return_when=asyncio.FIRST_COMPLETED)
            failed = [t for t in tasks if t.done()]
            for t in failed:
                if not t.cancelled() and t.exception() is not None:
                    log.error("box %s: session task failed: %r", self.id, t.exception())
            for t in [*tasks, *waits]:
                t.cancel()
            await asyncio.wait([*tasks, *waits], timeout=10.0)
            self.connected = False
            if stop.is_set():
                await session.stop(wait_s=5.0)
                return
            session.abort()
            await session.stop(wait_s=5.0)
            pause = 1.0 if failed else self._offline_s
            if not failed:
                self.counts.offline_spells += 1
            self._cut.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def _pump(self, session: MqttSession) -> None:
        while True:
            ev = await session.events.get()
            try:
                if isinstance(ev, Connected):
                    await self._on_connected(session)
                elif isinstance(ev, Disconnected):
                    self.connected = False
                    self._jw, self._ew = ob.disconnected(self._jw), ob.disconnected(self._ew)
                elif isinstance(ev, Message):
                    await self._on_message(ev)
                    session.ack(ev)
            except (ProtocolError, JournalError, RecordError) as e:
                log.warning("box %s: %s", self.id, e)
                if isinstance(ev, Message):
                    session.ack(ev)  # a bad message stays bad: do not have it redelivered
            except Exception:
                # As the daemon's uplink: not acknowledged, so the broker delivers it again.
                log.exception("box %s: handling %s failed", self.id, type(ev).__name__)

    async def _on_connected(self, session: MqttSession) -> None:
        assert self.outbox is not None and self.journal is not None
        self.counts.connects += 1
        now = wall_ms()
        box = self.outbox
        jacked, acked, head = await asyncio.to_thread(
            lambda: (box.number("journal", "acked") or 0, box.acked(), box.head()))
        w = self.wiring
        self._jw = ob.start(max(jacked, self.journal.head.cosigned), self.size, now,
                            batch=w.batch_records, max_inflight=4 * w.batch_records,
                            timeout_ms=w.resend_after_ms)
        self._ew = ob.start(acked, head, now, batch=200, max_inflight=1000,
                            timeout_ms=w.resend_after_ms)
        self.connected = True
        birth = Birth(self.id, self.bdseq, now, "fleet-sim", "sim",
                      (DeviceState("front", "printer", "ok"),),
                      JournalPosition(self.size, min(self._jw.acked, self.size),
                                      self.journal.head.log), 60, self.id, w.keepalive_s)
        await session.publish(up(self.id, Up.BIRTH), birth.to_json(), 1, True,
                              wait_s=PUBLISH_WAIT_S)
        self._bell.set()

    async def _on_message(self, msg: Message) -> None:
        leaf = parse_topic(msg.topic).leaf
        if leaf is Down.JOURNAL_ACK:
            await self._on_journal_ack(JournalAck.from_json(msg.payload))
        elif leaf is Down.EVENTS_ACK:
            await self._on_events_ack(EventsAck.from_json(msg.payload))
        elif leaf is Down.PRINT:
            await self._print(PrintDispatch.from_json(msg.payload))
        self._bell.set()

    async def _on_journal_ack(self, ack: JournalAck) -> None:
        assert self.outbox is not None and self.journal is not None
        if ack.box != self.id or ack.log_id != self.journal.head.log:
            return
        now = wall_ms()
        note = (ack.cosignature or {}).get("note")
        if isinstance(note, str):
            self.counts.cosign_notes.setdefault(ack.size, set()).add(note)
        if ack.status == "resend":
            self.counts.acks_resend += 1
            self._jw = ob.held_only(self._jw, ack.size, now)
            return
        if ack.status == "refused":
            self.counts.acks_refused += 1
            log.error("box %s: HQ refused the journal at %d: %s", self.id, ack.size, ack.reason)
            self._jw = ob.resend_from(self._jw, ack.size, now)
            return
        self.counts.acks_ok += 1
        if ack.size > self._jw.acked:
            acked = self._jw.acked
            if any(self._cosign_types.get(s) is not True for s in range(acked, ack.size)):
                cosig = ack.cosignature or {}
                await self.journal.add_cosignature(str(cosig.get("note")),
                                                   str(cosig.get("cosigner")))
                self.counts.cosigns_kept += 1
            await asyncio.to_thread(self.outbox.put, [("journal", "acked", ack.size, None)])
            for s in range(acked, ack.size):
                self._cosign_types.pop(s, None)
        self._jw = ob.acknowledged(self._jw, ack.size, now)

    async def _on_events_ack(self, ack: EventsAck) -> None:
        assert self.outbox is not None
        if ack.box != self.id or ack.stream != self.outbox.stream:
            return
        if ack.upto < self._ew.resume:
            self._ew = ob.held_only(self._ew, ack.upto, wall_ms())
            return
        done = await asyncio.to_thread(self.outbox.ack, ack.upto)
        self._ew = ob.acknowledged(self._ew, done, wall_ms())

    async def _print(self, d: PrintDispatch) -> None:
        """Print a cloud job once: intake, job states and the print count in one commit."""
        assert self.outbox is not None
        if d.box != self.id:
            raise ProtocolError("box", f"addressed to box {d.box}")
        box = self.outbox
        job_id = d.job_id
        async with self._lock:
            known = await asyncio.to_thread(box.number, JOB_NS, job_id)
            now = wall_ms()
            if known is not None:
                self.counts.jobs_repeated += 1
                events: list[Mapping[str, object]] = [_intake(job_id, "duplicate", now)]
                await asyncio.to_thread(box.append, events)
                return
            printed = await asyncio.to_thread(box.number, PRINTED_NS, job_id) or 0
            events = [_intake(job_id, "accepted", now)]
            events += [{"type": "job", "id": job_id, "printer": "front", "state": s,
                        "reason": None, "version": v, "at_ms": now}
                       for v, s in enumerate(("queued", "printing", "printed"), start=1)]
            await asyncio.to_thread(box.append, events, [(JOB_NS, job_id, 3, None),
                                                         (PRINTED_NS, job_id, printed + 1,
                                                          None)])
            self.counts.jobs_printed += 1

    def prints(self) -> dict[str, int]:
        """How many times each cloud job was printed (blocking)."""
        assert self.outbox is not None
        return self.outbox.numbers(PRINTED_NS)

    # --- upload --------------------------------------------------------------------------

    async def _ticker(self, session: MqttSession) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._bell.wait(), IDLE_S)
            self._bell.clear()
            if not self.connected:
                continue
            await self._send_journal(session)
            await self._send_events(session)

    async def _send_journal(self, session: MqttSession) -> None:
        assert self.journal is not None
        self._jw = ob.grow(self._jw, self.size)
        while True:
            self._jw, rng = ob.next_range(self._jw, wall_ms())
            if rng is None:
                return
            records = await asyncio.to_thread(read_records, self.journal, *rng,
                                              self._cosign_types)
            if not records:
                self._jw = ob.disconnected(self._jw)
                return
            batch = JournalBatch(self.id, self.journal.head.log, rng[0], tuple(records))
            await session.publish(up(self.id, Up.JOURNAL), batch.to_json(), 1,
                                  wait_s=PUBLISH_WAIT_S)

    async def _send_events(self, session: MqttSession) -> None:
        assert self.outbox is not None
        box = self.outbox
        head = await asyncio.to_thread(box.head)
        self._ew = ob.grow(self._ew, head)  # read the window after the await: acks move it
        while True:
            self._ew, rng = ob.next_range(self._ew, wall_ms())
            if rng is None:
                return
            rows = await asyncio.to_thread(box.events, rng[0] + 1, rng[1])
            if len(rows) != rng[1] - rng[0]:
                self._ew = ob.disconnected(self._ew)
                return
            batch = EventsBatch(self.id, box.stream,
                                tuple(event_from_obj(r, "event") for r in rows))
            await session.publish(up(self.id, Up.EVENTS), batch.to_json(), 1,
                                  wait_s=PUBLISH_WAIT_S)


def _intake(job_id: str, result: str, at_ms: int) -> dict[str, object]:
    return {"type": "intake", "id": job_id, "result": result, "error": "", "at_ms": at_ms}
