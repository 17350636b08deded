"""Payload errors in the validation layer's words: wrong types, ranges, nearest argument names,
huge numbers and deep nesting all end as a ProtocolError naming the field."""

from __future__ import annotations

import json

import pytest

from sync.protocol import ProtocolError
from sync.protocol.commands import Command
from sync.protocol.messages import (
    Birth,
    DeviceState,
    EventsBatch,
    JobEvent,
    JournalBatch,
    JournalPosition,
    Telemetry,
)

BIRTH = Birth("CQ-JB-001-B1", 7, 1795996800123, "0.1.0", "CQ-JB-001",
              (DeviceState("front", "printer", "ok", "前台小票机缺纸"),),
              JournalPosition(120, 100, "0f" * 16), 30, "重庆江北建材旗舰店")
TELEMETRY = Telemetry("CQ-JB-001-B1", 7, 1, 1795996800123, 60, BIRTH.devices, {"front": 2},
                      BIRTH.journal)


def _with(data: bytes, **changes: object) -> bytes:
    return json.dumps({**json.loads(data), **changes}, ensure_ascii=False).encode()


def _error(codec: type[Birth] | type[Telemetry] | type[EventsBatch], data: bytes
           ) -> tuple[str, str]:
    with pytest.raises(ProtocolError) as e:
        codec.from_json(data)
    return e.value.field, e.value.reason


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"bdseq": "7"}, "bdseq", "must be an integer, got a string"),
    ({"telemetry_interval_s": 0}, "telemetry_interval_s", "must be 1-86400"),
    ({"journal": {"head": 1, "acked": 2}}, "journal.acked", "must be 0-1"),
    ({"devices": [{"id": "front", "kind": "printer", "state": "缺纸"}]}, "devices[0].state",
     "must match '^[a-z][a-z0-9_]{0,31}$'"),
    ({"name": "店" * 257}, "name", "must have at most 256 characters"),
    ({"v": 2, "bdseq": "7"}, "v", "must be 1 (got 2)"),
])
def test_birth_errors_say_what_was_wanted(changes: dict[str, object], field: str,
                                          reason: str) -> None:
    assert _error(Birth, _with(BIRTH.to_json(), **changes)) == (field, reason)


def test_object_members_are_named_by_their_key() -> None:
    data = _with(TELEMETRY.to_json(), queues={"front": 2, "后厨": -1})
    assert _error(Telemetry, data) == ("queues.后厨", "must be 0-9007199254740991")


def test_huge_numbers_and_deep_nesting_are_clean_errors() -> None:
    text = TELEMETRY.to_json().decode()
    huge = text.replace('"uptime_s":60', '"uptime_s":' + "9" * 5000).encode()
    assert _error(Telemetry, huge) == ("uptime_s", "must be 0-9007199254740991")
    deep = text.replace('"queues":{"front":2}', '"queues":{"front":' + "[" * 50_000
                        + "]" * 50_000 + "}").encode()
    assert _error(Telemetry, deep) == ("queues", "a member must be an integer, got an array")
    batch = JournalBatch("CQ-JB-001-B1", "0f" * 16, 1, ({"record": {"body": {}}},)).to_json()
    deep = batch.replace(b'{"body":{}}', b'{"body":' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    with pytest.raises(ProtocolError) as e:
        JournalBatch.from_json(deep)
    assert (e.value.field, e.value.reason) == ("payload", "nested too deeply")


def test_an_unknown_event_type_and_a_wrong_type_are_named() -> None:
    good = EventsBatch("b1", "s" * 22, (JobEvent(1, "j1", "front", "queued", 1, 5),))
    obj = json.loads(good.to_json())
    obj["events"][0]["type"] = "gossip"
    assert _error(EventsBatch, json.dumps(obj).encode()) == (
        "events[0].type", "must be one of job, intake, command")
    obj["events"][0].update(type="job", version="1")
    assert _error(EventsBatch, json.dumps(obj).encode()) == (
        "events[0].version", "must be an integer, got a string")


def test_command_arguments_suggest_the_nearest_name() -> None:
    obj = {"box": "CQ-JB-001-B1", "name": "open_drawer", "nonce": "nonce-0000000000001",
           "issued_ms": 1, "expires_ms": 2, "args": {"printr": "front"}}
    with pytest.raises(ProtocolError) as e:
        Command.from_obj(obj)
    assert (e.value.field, e.value.reason) == ("cmd.args.printr",
                                               "unknown field; did you mean `printer`?")
    obj["args"] = {"printer": "前台", "pin": "2"}
    with pytest.raises(ProtocolError) as e:
        Command.from_obj(obj)
    assert (e.value.field, e.value.reason) == ("cmd.args.pin",
                                               "must be one of 2, 5, got a string")
    obj["args"] = {"printer": "前台"}
    assert Command.from_obj(obj).args == {"printer": "前台", "pin": 2}
