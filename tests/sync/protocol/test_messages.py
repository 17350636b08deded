"""Payload codecs: exact wire bytes, round trips, and errors that name the field."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol import ProtocolError
from sync.protocol.messages import (
    Birth,
    CommandEvent,
    Death,
    DeviceState,
    EventsAck,
    EventsBatch,
    HqState,
    IntakeEvent,
    JobEvent,
    JournalAck,
    JournalBatch,
    JournalPosition,
    PrintDispatch,
    Telemetry,
)

DEVICES = (DeviceState("front", "printer", "ok", "前台小票机"),
           DeviceState("warehouse", "printer", "paper_out"))
BIRTH = Birth("CQ-JB-001-B1", 1795996800000, 1795996800123, "0.1.0", "CQ-JB-001", DEVICES,
              JournalPosition(120, 100, "0f" * 16), 30, "重庆江北建材旗舰店")
CODECS = [Birth, Death, HqState, Telemetry, JournalBatch, JournalAck, EventsBatch, EventsAck,
          PrintDispatch]


def test_birth_wire_form_is_sorted_compact_utf8() -> None:
    data = BIRTH.to_json()
    assert data.startswith(b'{"at_ms":1795996800123,"bdseq":1795996800000,"box":"CQ-JB-001-B1"')
    assert "重庆江北建材旗舰店".encode() in data
    assert Birth.from_json(data) == BIRTH


def test_every_message_round_trips() -> None:
    msgs = [
        BIRTH, replace(BIRTH, keepalive_s=20),
        Death("b1", 7), Death("b1", 8, "shutdown"),
        HqState("hq-1", True, 5),
        Telemetry("b1", 7, 3, 1000, 60, DEVICES, {"front": 2}, JournalPosition(5, 4), 10**9, 41250),
        JournalBatch("b1", "ab" * 16, 0, ({"hash": "00", "record": {}, "sig": "00"},)),
        JournalAck("b1", "ab" * 16, "ok", 5, 9, "cd" * 32, {"cosigner": "hq", "size": 5}),
        JournalAck("b1", "ab" * 16, "refused", 5, 9, reason="fork at seq 3"),
        EventsBatch("b1", "s" * 22, (JobEvent(4, "ord-1", "front", "printed", 3, 10),
                                     IntakeEvent(5, "ord-2", "accepted", 11),
                                     CommandEvent(6, "n" * 16, "rebirth", "refused", 12,
                                                  "bad signature"))),
        EventsAck("b1", "s" * 22, 6),
        PrintDispatch("b1", {"id": "ord-1", "printer": "front", "raw": "G0A="}, 99),
    ]
    for m in msgs:
        assert type(m).from_json(m.to_json()) == m  # type: ignore[attr-defined]


def _mutate(data: bytes, **changes: object) -> bytes:
    obj = json.loads(data)
    for path, value in changes.items():
        target = obj
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        elif value is ...:
            del target[last]
        else:
            target[last] = value
    return json.dumps(obj, ensure_ascii=False).encode()


@pytest.mark.parametrize(("changes", "field"), [
    ({"v": 2}, "v"),
    ({"bdseq": -1}, "bdseq"),
    ({"bdseq": True}, "bdseq"),
    ({"bdseq": 1.5}, "bdseq"),
    ({"box": "a/b"}, "box"),
    ({"devices__1__state": "Paper Out"}, "devices[1].state"),
    ({"devices__0": 5}, "devices[0]"),
    ({"journal__acked": 121}, "journal.acked"),
    ({"journal": ...}, "journal"),
    ({"telemetry_interval_s": 0}, "telemetry_interval_s"),
])
def test_birth_errors_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ProtocolError) as e:
        Birth.from_json(_mutate(BIRTH.to_json(), **changes))
    assert e.value.field == field


def test_events_must_be_dense_and_typed() -> None:
    good = EventsBatch("b1", "s" * 22, (JobEvent(1, "j1", "front", "queued", 1, 5),
                                        JobEvent(2, "j1", "front", "printing", 2, 6)))
    with pytest.raises(ProtocolError) as e:
        EventsBatch.from_json(_mutate(good.to_json(), events__1__eseq=3))
    assert e.value.field == "events[1].eseq"
    with pytest.raises(ProtocolError) as e:
        EventsBatch.from_json(_mutate(good.to_json(), events__0__type="gossip"))
    assert e.value.field == "events[0].type"
    with pytest.raises(ProtocolError) as e:
        EventsBatch.from_json(_mutate(good.to_json(), events__0__id="has space"))
    assert e.value.field == "events[0].id"


def test_ok_ack_needs_a_cosignature_and_dispatch_needs_job_id_and_printer() -> None:
    ack = JournalAck("b1", "ab" * 16, "ok", 5, 9, "cd" * 32, {"x": 1})
    with pytest.raises(ProtocolError) as e:
        JournalAck.from_json(_mutate(ack.to_json(), cosignature=None))
    assert e.value.field == "cosignature"
    d = PrintDispatch("b1", {"id": "ord-1", "printer": "front"}, 1)
    with pytest.raises(ProtocolError) as e:
        PrintDispatch.from_json(_mutate(d.to_json(), job__id="坏 id"))
    assert e.value.field == "job.id"
    with pytest.raises(ProtocolError) as e:
        PrintDispatch.from_json(_mutate(d.to_json(), job__printer=...))
    assert e.value.field == "job.printer"


@pytest.mark.parametrize("data", [b"", b"[]", b"{", b'{"v":1', "{\"v\":1}".encode("utf-16"),
                                  b'{"v":NaN}', b'{"v":1,"box":"b1","bdseq":Infinity}'])
def test_not_json_objects_are_refused_as_payload_or_v(data: bytes) -> None:
    with pytest.raises(ProtocolError) as e:
        Death.from_json(data)
    assert e.value.field in ("payload", "v", "bdseq")


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_protocol_error(data: bytes) -> None:
    for codec in CODECS:
        with contextlib.suppress(ProtocolError):
            codec.from_json(data)  # type: ignore[attr-defined]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4), max_leaves=20)


@given(st.dictionaries(st.sampled_from(["v", "box", "bdseq", "seq", "at_ms", "devices", "journal",
                                        "events", "stream", "job", "records", "first", "status",
                                        "size", "cosignature", "queues", "reason", "hq",
                                        "online", "uptime_s", "version", "store"]),
                       json_values, max_size=12))
def test_random_json_objects_raise_only_protocol_error(obj: dict[str, object]) -> None:
    obj.setdefault("v", 1)
    data = json.dumps(obj).encode()
    for codec in CODECS:
        with contextlib.suppress(ProtocolError):
            codec.from_json(data)  # type: ignore[attr-defined]
