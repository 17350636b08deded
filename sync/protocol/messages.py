"""Versioned JSON payloads of docs/protocol.md as frozen dataclasses with strict codecs.

`to_json()` gives the wire bytes; `from_json(bytes)` decodes them through their schema
(sync/protocol/schemas.py, the validation layer) and raises ProtocolError naming the first bad
field by dotted path (`events[2].state`). Unknown fields are ignored so that additive changes
need no new `v`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sync.protocol import ProtocolError
from sync.protocol import fields as f
from sync.protocol import schemas as w
from sync.protocol.print_job import parse_dispatched
from sync.protocol.schemas import JOB_ID, MAX_BATCH, NONCE, WORD

__all__ = ["JOB_ID", "MAX_BATCH", "NONCE", "WORD"]
DeathReason = Literal["lost", "shutdown"]
AckStatus = Literal["ok", "resend", "refused"]
IntakeResult = Literal["accepted", "duplicate", "refused"]
CommandResult = Literal["done", "refused", "failed"]


@dataclass(frozen=True)
class DeviceState:
    """One device as the box sees it: `state` is a printer state word (ok, paper_out, …)."""

    id: str
    kind: str
    state: str
    detail: str = ""

    def to_obj(self) -> dict[str, object]:
        """The JSON object."""
        return {"id": self.id, "kind": self.kind, "state": self.state, "detail": self.detail}

    @classmethod
    def from_obj(cls, raw: object, where: str) -> DeviceState:
        """Validate one device object found at `where`."""
        return cls.from_wire(f.part(raw, w.DeviceWire, where))

    @classmethod
    def from_wire(cls, d: w.DeviceWire) -> DeviceState:
        """From its decoded wire shape."""
        return cls(d.id, d.kind, d.state, d.detail or "")


@dataclass(frozen=True)
class JournalPosition:
    """The box's journal head (records written) and acked (records HQ countersigned)."""

    head: int
    acked: int
    log_id: str = ""

    def to_obj(self) -> dict[str, object]:
        """The JSON object."""
        return {"head": self.head, "acked": self.acked, "log_id": self.log_id}

    @classmethod
    def from_obj(cls, raw: object, where: str) -> JournalPosition:
        """Validate; `acked` may not exceed `head`."""
        return cls.from_wire(f.part(raw, w.PositionWire, where), where)

    @classmethod
    def from_wire(cls, p: w.PositionWire, where: str) -> JournalPosition:
        """From its decoded wire shape; `acked` may not exceed `head`."""
        if p.acked > p.head:
            raise ProtocolError(f"{where}.acked", f"must be 0-{p.head}")
        return cls(p.head, p.acked, p.log_id or "")


def _devices(devices: list[w.DeviceWire]) -> tuple[DeviceState, ...]:
    return tuple(DeviceState.from_wire(d) for d in devices)


@dataclass(frozen=True)
class Birth:
    """Retained on up/birth right after every connect; `bdseq` equals the Will's."""

    box: str
    bdseq: int
    at_ms: int
    version: str
    store: str
    devices: tuple[DeviceState, ...]
    journal: JournalPosition
    telemetry_interval_s: int
    name: str = ""
    keepalive_s: int | None = None
    """The box's MQTT keep-alive (absent from boxes before it was added): sets HQ's window."""

    def to_json(self) -> bytes:
        """Wire bytes."""
        o: dict[str, object] = {
            "v": 1, "box": self.box, "bdseq": self.bdseq, "at_ms": self.at_ms,
            "version": self.version, "store": self.store, "name": self.name,
            "devices": [d.to_obj() for d in self.devices], "journal": self.journal.to_obj(),
            "telemetry_interval_s": self.telemetry_interval_s}
        if self.keepalive_s is not None:
            o["keepalive_s"] = self.keepalive_s
        return f.dumps(o)

    @classmethod
    def from_json(cls, data: bytes) -> Birth:
        """Validate wire bytes."""
        o = f.decode(data, w.BirthWire)
        return cls(o.box, o.bdseq, o.at_ms, o.version, o.store, _devices(o.devices),
                   JournalPosition.from_wire(o.journal, "journal"), o.telemetry_interval_s,
                   o.name or "", o.keepalive_s)


@dataclass(frozen=True)
class Death:
    """Retained on up/death: the MQTT Will (`lost`) or sent before a clean stop (`shutdown`)."""

    box: str
    bdseq: int
    reason: DeathReason = "lost"

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "bdseq": self.bdseq, "reason": self.reason})

    @classmethod
    def from_json(cls, data: bytes) -> Death:
        """Validate wire bytes."""
        o = f.decode(data, w.DeathWire)
        return cls(o.box, o.bdseq, o.reason)


@dataclass(frozen=True)
class HqState:
    """Retained on storelink/v1/hq/{hq}/state: online after connecting, offline as its Will."""

    hq: str
    online: bool
    at_ms: int

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "hq": self.hq, "online": self.online, "at_ms": self.at_ms})

    @classmethod
    def from_json(cls, data: bytes) -> HqState:
        """Validate wire bytes."""
        o = f.decode(data, w.HqStateWire)
        return cls(o.hq, o.online, o.at_ms)


@dataclass(frozen=True)
class Telemetry:
    """Periodic and on-change state; `seq` counts from 1 after each birth, so HQ sees gaps."""

    box: str
    bdseq: int
    seq: int
    at_ms: int
    uptime_s: int
    devices: tuple[DeviceState, ...]
    queues: Mapping[str, int]
    journal: JournalPosition
    disk_free_bytes: int | None = None
    temperature_mc: int | None = None

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "bdseq": self.bdseq, "seq": self.seq,
                        "at_ms": self.at_ms, "uptime_s": self.uptime_s,
                        "devices": [d.to_obj() for d in self.devices],
                        "queues": dict(self.queues), "journal": self.journal.to_obj(),
                        "disk_free_bytes": self.disk_free_bytes,
                        "temperature_mc": self.temperature_mc})

    @classmethod
    def from_json(cls, data: bytes) -> Telemetry:
        """Validate wire bytes."""
        o = f.decode(data, w.TelemetryWire)
        return cls(o.box, o.bdseq, o.seq, o.at_ms, o.uptime_s, _devices(o.devices), o.queues,
                   JournalPosition.from_wire(o.journal, "journal"), o.disk_free_bytes,
                   o.temperature_mc)


@dataclass(frozen=True)
class JournalBatch:
    """Records seq `first`, `first+1`, … as export-line objects {"hash","record","sig"} of
    docs/journal.md, oldest first."""

    box: str
    log_id: str
    first: int
    records: tuple[Mapping[str, object], ...]

    @property
    def last(self) -> int:
        """The seq of the last record."""
        return self.first + len(self.records) - 1

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "log_id": self.log_id, "first": self.first,
                        "records": list(self.records)})

    @classmethod
    def from_json(cls, data: bytes) -> JournalBatch:
        """Validate the envelope; records are checked by the journal verifier at HQ."""
        o = f.decode(data, w.JournalBatchWire)
        return cls(o.box, o.log_id, o.first, tuple(o.records))


@dataclass(frozen=True)
class JournalAck:
    """HQ's answer to a batch: the first `size` records (seq 0 … size−1) are verified and
    stored; when `ok`, `cosignature` is HQ's cosignature of checkpoint (log, size, head) in the
    form of a cosign record body (docs/journal.md), which the box appends as it is.

    `resend`: HQ holds `size` records and the batch did not continue them — send from size+1.
    `refused`: the batch conflicts with what HQ holds or fails verification (an alarm is raised).
    """

    box: str
    log_id: str
    status: AckStatus
    size: int
    at_ms: int
    head: str = ""
    cosignature: Mapping[str, object] | None = None
    reason: str = ""

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "log_id": self.log_id, "status": self.status,
                        "size": self.size, "at_ms": self.at_ms, "head": self.head,
                        "cosignature": None if self.cosignature is None else dict(self.cosignature),
                        "reason": self.reason})

    @classmethod
    def from_json(cls, data: bytes) -> JournalAck:
        """Validate wire bytes; an `ok` ack with size > 0 must carry a cosignature."""
        o = f.decode(data, w.JournalAckWire)
        if o.cosignature is None and o.status == "ok" and o.size > 0:
            raise ProtocolError("cosignature", "is required in an ok ack")
        return cls(o.box, o.log_id, o.status, o.size, o.at_ms, o.head or "", o.cosignature,
                   o.reason or "")


@dataclass(frozen=True)
class JobEvent:
    """A state change of a print job on the box (the queue's job event, numbered `eseq`)."""

    eseq: int
    id: str
    printer: str
    state: str
    version: int
    at_ms: int
    reason: str | None = None
    type: Literal["job"] = field(default="job", init=False)

    def to_obj(self) -> dict[str, object]:
        """The JSON object."""
        return {"type": "job", "eseq": self.eseq, "id": self.id, "printer": self.printer,
                "state": self.state, "reason": self.reason, "version": self.version,
                "at_ms": self.at_ms}


@dataclass(frozen=True)
class IntakeEvent:
    """The box's answer to a cloud print job, sent only after the queue committed it."""

    eseq: int
    id: str
    result: IntakeResult
    at_ms: int
    error: str = ""
    type: Literal["intake"] = field(default="intake", init=False)

    def to_obj(self) -> dict[str, object]:
        """The JSON object."""
        return {"type": "intake", "eseq": self.eseq, "id": self.id, "result": self.result,
                "error": self.error, "at_ms": self.at_ms}


@dataclass(frozen=True)
class CommandEvent:
    """The box's answer to a command: done, refused (bad signature, replay, expiry) or failed."""

    eseq: int
    nonce: str
    name: str
    result: CommandResult
    at_ms: int
    error: str = ""
    type: Literal["command"] = field(default="command", init=False)

    def to_obj(self) -> dict[str, object]:
        """The JSON object."""
        return {"type": "command", "eseq": self.eseq, "nonce": self.nonce, "name": self.name,
                "result": self.result, "error": self.error, "at_ms": self.at_ms}


Event = JobEvent | IntakeEvent | CommandEvent


def event_from_obj(raw: object, where: str) -> Event:
    """Validate one event object found at `where`."""
    return _event(f.part(raw, w.EventWire, where))  # type: ignore[arg-type]


def _event(e: w.EventWire) -> Event:
    if isinstance(e, w.JobEventWire):
        return JobEvent(e.eseq, e.id, e.printer, e.state, e.version, e.at_ms, e.reason)
    if isinstance(e, w.IntakeEventWire):
        return IntakeEvent(e.eseq, e.id, e.result, e.at_ms, e.error or "")
    return CommandEvent(e.eseq, e.nonce, e.name, e.result, e.at_ms, e.error or "")


@dataclass(frozen=True)
class EventsBatch:
    """Events `eseq` ascending and dense from the box's durable event outbox `stream`."""

    box: str
    stream: str
    events: tuple[Event, ...]

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "stream": self.stream,
                        "events": [e.to_obj() for e in self.events]})

    @classmethod
    def from_json(cls, data: bytes) -> EventsBatch:
        """Validate wire bytes, including that `eseq` is dense and ascending."""
        o = f.decode(data, w.EventsBatchWire)
        evs = tuple(_event(e) for e in o.events)
        for i in range(1, len(evs)):
            if evs[i].eseq != evs[0].eseq + i:
                raise ProtocolError(f"events[{i}].eseq", f"must be {evs[0].eseq + i}")
        return cls(o.box, o.stream, evs)


@dataclass(frozen=True)
class EventsAck:
    """HQ processed every event of `stream` up to and including `upto` (cumulative)."""

    box: str
    stream: str
    upto: int

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "stream": self.stream, "upto": self.upto})

    @classmethod
    def from_json(cls, data: bytes) -> EventsAck:
        """Validate wire bytes."""
        o = f.decode(data, w.EventsAckWire)
        return cls(o.box, o.stream, o.upto)


@dataclass(frozen=True)
class PrintDispatch:
    """A cloud print job for one box: the job JSON of docs/print-jobs.md (id, printer, expiry)."""

    box: str
    job: Mapping[str, object]
    sent_at_ms: int

    @property
    def job_id(self) -> str:
        """The sender's job id."""
        return str(self.job["id"])

    def to_json(self) -> bytes:
        """Wire bytes."""
        return f.dumps({"v": 1, "box": self.box, "job": dict(self.job),
                        "sent_at_ms": self.sent_at_ms})

    @classmethod
    def from_json(cls, data: bytes) -> PrintDispatch:
        """Validate the dispatch and the job's envelope (sync.protocol.print_job, the rules HQ
        applied before sending it); the box's renderers check the content."""
        o = f.decode(data, w.PrintDispatchWire)
        parse_dispatched(o.job)
        return cls(o.box, o.job, o.sent_at_ms)
