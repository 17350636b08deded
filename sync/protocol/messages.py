"""Versioned JSON payloads of docs/protocol.md as frozen dataclasses with strict codecs.

`to_json()` gives the wire bytes; `from_json(bytes)` validates every field and raises
ProtocolError naming the first bad one by dotted path (`events[2].state`). Unknown fields are
ignored so that additive changes need no new `v`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sync.protocol import ProtocolError
from sync.protocol import fields as f
from sync.protocol.print_job import JOB_ID, parse_dispatched
from sync.protocol.topics import BOX_ID, HQ_ID

WORD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_BATCH = 2000
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
        o = f.as_obj(raw, where)
        return cls(f.string(o, "id", where, max_len=64), f.string(o, "kind", where, pattern=WORD),
                   f.string(o, "state", where, pattern=WORD),
                   f.opt_string(o, "detail", where, max_len=512) or "")


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
        o = f.as_obj(raw, where)
        head = f.integer(o, "head", where)
        acked = f.integer(o, "acked", where, hi=head)
        return cls(head, acked, f.opt_string(o, "log_id", where, max_len=128) or "")


def _devices(o: Mapping[str, object]) -> tuple[DeviceState, ...]:
    return tuple(DeviceState.from_obj(d, f"devices[{i}]")
                 for i, d in enumerate(f.lst(o, "devices", max_items=256)))


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
        o = f.load_object(data)
        return cls(f.string(o, "box", pattern=BOX_ID), f.integer(o, "bdseq"),
                   f.integer(o, "at_ms"), f.string(o, "version", max_len=64),
                   f.string(o, "store", max_len=128, empty=True), _devices(o),
                   JournalPosition.from_obj(o.get("journal"), "journal"),
                   f.integer(o, "telemetry_interval_s", lo=1, hi=86400),
                   f.opt_string(o, "name", max_len=256) or "",
                   f.opt_integer(o, "keepalive_s", lo=1, hi=65535))


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
        o = f.load_object(data)
        reason = f.string(o, "reason", choices=("lost", "shutdown"))
        return cls(f.string(o, "box", pattern=BOX_ID), f.integer(o, "bdseq"),
                   "lost" if reason == "lost" else "shutdown")


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
        o = f.load_object(data)
        return cls(f.string(o, "hq", pattern=HQ_ID), f.boolean(o, "online"), f.integer(o, "at_ms"))


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
        o = f.load_object(data)
        return cls(f.string(o, "box", pattern=BOX_ID), f.integer(o, "bdseq"),
                   f.integer(o, "seq", lo=1), f.integer(o, "at_ms"), f.integer(o, "uptime_s"),
                   _devices(o), f.int_map(o, "queues"),
                   JournalPosition.from_obj(o.get("journal"), "journal"),
                   f.opt_integer(o, "disk_free_bytes"),
                   f.opt_integer(o, "temperature_mc", lo=-273_150, hi=1_000_000))


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
        o = f.load_object(data)
        recs = f.lst(o, "records", min_items=1, max_items=MAX_BATCH)
        return cls(f.string(o, "box", pattern=BOX_ID), f.string(o, "log_id", max_len=128),
                   f.integer(o, "first"),
                   tuple(f.as_obj(r, f"records[{i}]") for i, r in enumerate(recs)))


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
        o = f.load_object(data)
        status = f.string(o, "status", choices=("ok", "resend", "refused"))
        size = f.integer(o, "size")
        cos = o.get("cosignature")
        if cos is not None:
            cos = f.as_obj(cos, "cosignature")
        elif status == "ok" and size > 0:
            raise ProtocolError("cosignature", "is required in an ok ack")
        st: AckStatus = "ok" if status == "ok" else "resend" if status == "resend" else "refused"
        return cls(f.string(o, "box", pattern=BOX_ID), f.string(o, "log_id", max_len=128), st,
                   size, f.integer(o, "at_ms"), f.opt_string(o, "head", max_len=128) or "",
                   cos, f.opt_string(o, "reason", max_len=2000) or "")


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
    o = f.as_obj(raw, where)
    kind = f.string(o, "type", where, choices=("job", "intake", "command"))
    eseq = f.integer(o, "eseq", where, lo=1)
    at_ms = f.integer(o, "at_ms", where)
    if kind == "job":
        return JobEvent(eseq, f.string(o, "id", where, pattern=JOB_ID),
                        f.string(o, "printer", where, max_len=64),
                        f.string(o, "state", where, pattern=WORD),
                        f.integer(o, "version", where, lo=1), at_ms,
                        f.opt_string(o, "reason", where, max_len=64))
    if kind == "intake":
        r = f.string(o, "result", where, choices=("accepted", "duplicate", "refused"))
        res: IntakeResult = "accepted" if r == "accepted" else (
            "duplicate" if r == "duplicate" else "refused")
        return IntakeEvent(eseq, f.string(o, "id", where, max_len=128), res, at_ms,
                           f.opt_string(o, "error", where, max_len=2000) or "")
    r = f.string(o, "result", where, choices=("done", "refused", "failed"))
    cres: CommandResult = "done" if r == "done" else "refused" if r == "refused" else "failed"
    return CommandEvent(eseq, f.string(o, "nonce", where, max_len=128, empty=True),
                        f.string(o, "name", where, max_len=64, empty=True), cres, at_ms,
                        f.opt_string(o, "error", where, max_len=2000) or "")


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
        o = f.load_object(data)
        evs = tuple(event_from_obj(e, f"events[{i}]")
                    for i, e in enumerate(f.lst(o, "events", min_items=1, max_items=MAX_BATCH)))
        for i in range(1, len(evs)):
            if evs[i].eseq != evs[0].eseq + i:
                raise ProtocolError(f"events[{i}].eseq", f"must be {evs[0].eseq + i}")
        return cls(f.string(o, "box", pattern=BOX_ID), f.string(o, "stream", pattern=NONCE), evs)


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
        o = f.load_object(data)
        return cls(f.string(o, "box", pattern=BOX_ID), f.string(o, "stream", pattern=NONCE),
                   f.integer(o, "upto"))


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
        o = f.load_object(data)
        job = f.obj(o, "job")
        parse_dispatched(job)
        return cls(f.string(o, "box", pattern=BOX_ID), job, f.integer(o, "sent_at_ms"))
