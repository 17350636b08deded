"""The wire shapes of the payloads of docs/protocol.md, declared for the validation layer.

Payload fields a schema does not name are ignored (additive changes need no new `v`); the
rules between fields (acked ≤ head, dense eseq, an ok ack's cosignature) are the codecs'.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from sync.protocol.topics import BOX_ID, HQ_ID

MAX_INT = 2**53 - 1
MAX_BATCH = 2000
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
WORD = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

Count = Annotated[int, Meta(ge=0, le=MAX_INT)]
Positive = Annotated[int, Meta(ge=1, le=MAX_INT)]
BoxId = Annotated[str, Meta(pattern=BOX_ID.pattern)]
HqId = Annotated[str, Meta(pattern=HQ_ID.pattern)]
JobId = Annotated[str, Meta(pattern=JOB_ID.pattern)]
Word = Annotated[str, Meta(pattern=WORD.pattern)]
Nonce = Annotated[str, Meta(pattern=NONCE.pattern)]
Name64 = Annotated[str, Meta(min_length=1, max_length=64)]
Name128 = Annotated[str, Meta(min_length=1, max_length=128)]
Text64 = Annotated[str, Meta(max_length=64)]
Text128 = Annotated[str, Meta(max_length=128)]
Text256 = Annotated[str, Meta(max_length=256)]
Text512 = Annotated[str, Meta(max_length=512)]
Text2000 = Annotated[str, Meta(max_length=2000)]


class Wire(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every payload part: immutable, fields by name, unknown fields ignored."""


class Payload(Wire, frozen=True, kw_only=True):
    """A whole payload: its protocol version `v` is checked first by the codec."""

    v: Any = None


class Version(msgspec.Struct, frozen=True):
    """Only `v`, read on its own when a payload fails, so a new version is named as such."""

    v: Any = None


class DeviceWire(Wire, frozen=True, kw_only=True):
    """One device in a birth or telemetry."""

    id: Name64
    kind: Word
    state: Word
    detail: Text512 | None = None


class PositionWire(Wire, frozen=True, kw_only=True):
    """The box's journal position."""

    head: Count
    acked: Count
    log_id: Text128 | None = None


Devices = Annotated[list[DeviceWire], Meta(max_length=256)]


class BirthWire(Payload, frozen=True, kw_only=True):
    """up/birth."""

    box: BoxId
    bdseq: Count
    at_ms: Count
    version: Name64
    store: Text128
    devices: Devices
    journal: PositionWire
    telemetry_interval_s: Annotated[int, Meta(ge=1, le=86400)]
    name: Text256 | None = None
    keepalive_s: Annotated[int, Meta(ge=1, le=65535)] | None = None
    """The box's MQTT keep-alive (HQ's dead-link window, protocol.md §1.1); None before it."""


class DeathWire(Payload, frozen=True, kw_only=True):
    """up/death."""

    box: BoxId
    bdseq: Count
    reason: Literal["lost", "shutdown"]


class HqStateWire(Payload, frozen=True, kw_only=True):
    """HQ's retained state."""

    hq: HqId
    online: bool
    at_ms: Count


class TelemetryWire(Payload, frozen=True, kw_only=True):
    """up/telemetry."""

    box: BoxId
    bdseq: Count
    seq: Positive
    at_ms: Count
    uptime_s: Count
    devices: Devices
    queues: Annotated[dict[str, Count], Meta(max_length=256)]
    journal: PositionWire
    disk_free_bytes: Count | None = None
    temperature_mc: Annotated[int, Meta(ge=-273_150, le=1_000_000)] | None = None


Records = Annotated[list[dict[str, Any]], Meta(min_length=1, max_length=MAX_BATCH)]


class JournalBatchWire(Payload, frozen=True, kw_only=True):
    """up/journal: export-line objects, checked by the journal verifier at HQ."""

    box: BoxId
    log_id: Name128
    first: Count
    records: Records


class JournalAckWire(Payload, frozen=True, kw_only=True):
    """down/journal_ack."""

    box: BoxId
    log_id: Name128
    status: Literal["ok", "resend", "refused"]
    size: Count
    at_ms: Count
    head: Text128 | None = None
    cosignature: dict[str, Any] | None = None
    reason: Text2000 | None = None


class JobEventWire(Wire, frozen=True, kw_only=True, tag_field="type", tag="job"):
    """A print job's state change."""

    eseq: Positive
    at_ms: Count
    id: JobId
    printer: Name64
    state: Word
    version: Positive
    reason: Text64 | None = None


class IntakeEventWire(Wire, frozen=True, kw_only=True, tag_field="type", tag="intake"):
    """The box's answer to a cloud print job."""

    eseq: Positive
    at_ms: Count
    id: Name128
    result: Literal["accepted", "duplicate", "refused"]
    error: Text2000 | None = None


class CommandEventWire(Wire, frozen=True, kw_only=True, tag_field="type", tag="command"):
    """The box's answer to a command."""

    eseq: Positive
    at_ms: Count
    nonce: Text128
    name: Text64
    result: Literal["done", "refused", "failed"]
    error: Text2000 | None = None


EventWire = JobEventWire | IntakeEventWire | CommandEventWire


class EventsBatchWire(Payload, frozen=True, kw_only=True):
    """up/events."""

    box: BoxId
    stream: Nonce
    events: Annotated[list[EventWire], Meta(min_length=1, max_length=MAX_BATCH)]


class EventsAckWire(Payload, frozen=True, kw_only=True):
    """down/events_ack."""

    box: BoxId
    stream: Nonce
    upto: Count


class JobRefWire(Wire, frozen=True, kw_only=True):
    """What the envelope checks of a dispatched job; the box's queue checks the rest."""

    id: JobId
    printer: Name64


class PrintDispatchWire(Payload, frozen=True, kw_only=True):
    """down/print."""

    box: BoxId
    job: dict[str, Any]
    sent_at_ms: Count
