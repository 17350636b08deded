"""Signed commands: the documented vector; a guard that refuses forgery, replay and expiry."""

from __future__ import annotations

import base64
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.protocol import ProtocolError
from sync.protocol.commands import (
    DOMAIN,
    Command,
    CommandGuard,
    CommandRefusedError,
    SignedCommand,
    public_key_from_b64,
    sign_command,
)

# The vector of docs/protocol.md §Commands.
SEED = bytes(range(32))
PUB_B64 = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
VECTOR = (b'{"cmd":{"args":{"pin":2,"printer":"front"},"box":"CQ-JB-001-B1",'
          b'"expires_ms":1795997100000,"issued_ms":1795996800000,"name":"open_drawer",'
          b'"nonce":"n-20261129-000000001"},"sig":"ZL3mZUNF4fjo+e4FmengS4vX9ooVuHk4mlKB/dCYlYtVH'
          b'mLlorK1Z5tScgEqh3pNMjjI6ToKZ+TzRaKeINghDQ==","v":1}')
ISSUED = 1795996800000
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
PUB = public_key_from_b64(PUB_B64)


def cmd(name: str = "rebirth", nonce: str = "nonce-0000000000001", issued: int = ISSUED,
        life: int = 300_000, box: str = "CQ-JB-001-B1", **args: object) -> Command:
    return Command(box, name, args, nonce, issued, issued + life)


def test_the_documented_vector_signs_and_verifies() -> None:
    c = Command("CQ-JB-001-B1", "open_drawer", {"printer": "front", "pin": 2},
                "n-20261129-000000001", ISSUED, ISSUED + 300_000)
    signed = sign_command(c, KEY)
    assert signed.to_json() == VECTOR
    parsed = SignedCommand.from_json(VECTOR)
    assert parsed == signed and parsed.verify(PUB)
    assert c.signing_bytes() == DOMAIN + rfc8785.dumps(c.to_obj())  # type: ignore[arg-type]


def test_guard_admits_a_good_command_once() -> None:
    g = CommandGuard("CQ-JB-001-B1", PUB)
    data = sign_command(cmd("reupload", from_seq=10), KEY).to_json()
    admitted = g.admit(data, ISSUED + 1000)
    assert admitted.name == "reupload" and admitted.args == {"from_seq": 10}
    with pytest.raises(CommandRefusedError, match="replayed"):
        g.admit(data, ISSUED + 2000)
    # The remembered nonces survive a restart through the shell.
    g2 = CommandGuard("CQ-JB-001-B1", PUB, g.remembered())
    with pytest.raises(CommandRefusedError, match="replayed"):
        g2.admit(data, ISSUED + 3000)


def _resigned_with_change(data: bytes, **changes: object) -> bytes:
    obj = json.loads(data)
    obj["cmd"].update(changes)
    return json.dumps(obj).encode()


@pytest.mark.parametrize(("data", "now", "reason"), [
    (_resigned_with_change(VECTOR, args={"printer": "front", "pin": 5}), ISSUED, "bad signature"),
    (sign_command(cmd(), Ed25519PrivateKey.generate()).to_json(), ISSUED, "bad signature"),
    (sign_command(cmd(box="OTHER-BOX"), KEY).to_json(), ISSUED, "addressed to box OTHER-BOX"),
    (sign_command(cmd(), KEY).to_json(), ISSUED + 300_000, "expired"),
    (sign_command(cmd(), KEY).to_json(), ISSUED - 600_000, "issued in the future"),
    (sign_command(cmd(life=2 * 86_400_000), KEY).to_json(), ISSUED, "lifetime"),
    (b'{"v":1,"cmd":{"name":"rebirth"}}', ISSUED, "malformed"),
    (json.dumps({"v": 1, "cmd": cmd().to_obj()}).encode(), ISSUED, "malformed: sig"),
])
def test_guard_refuses(data: bytes, now: int, reason: str) -> None:
    g = CommandGuard("CQ-JB-001-B1", PUB)
    with pytest.raises(CommandRefusedError) as e:
        g.admit(data, now)
    assert reason in str(e.value)
    assert g.remembered() == []


def test_a_refused_signature_does_not_burn_the_nonce() -> None:
    g = CommandGuard("CQ-JB-001-B1", PUB)
    forged = sign_command(cmd(nonce="same-nonce-000000001"), Ed25519PrivateKey.generate())
    with pytest.raises(CommandRefusedError):
        g.admit(forged.to_json(), ISSUED)
    assert g.admit(sign_command(cmd(nonce="same-nonce-000000001"), KEY).to_json(), ISSUED)


def test_nonces_are_forgotten_after_expiry() -> None:
    g = CommandGuard("CQ-JB-001-B1", PUB, max_skew_ms=1000)
    g.admit(sign_command(cmd(nonce="a" * 16, life=5000), KEY).to_json(), ISSUED)
    g.admit(sign_command(cmd(nonce="b" * 16, issued=ISSUED + 10_000), KEY).to_json(),
            ISSUED + 10_000)
    assert [n for n, _ in g.remembered()] == ["b" * 16]


@pytest.mark.parametrize(("args", "field"), [
    ({"printer": "front", "pin": 3}, "cmd.args.pin"),
    ({"pin": 2}, "cmd.args.printer"),
    ({"printer": "front", "colour": "red"}, "cmd.args.colour"),
])
def test_command_arguments_are_validated(args: dict[str, object], field: str) -> None:
    obj = cmd("open_drawer").to_obj()
    obj["args"] = args
    with pytest.raises(ProtocolError) as e:
        Command.from_obj(obj)
    assert e.value.field == field


def test_public_key_must_be_32_bytes_of_base64() -> None:
    with pytest.raises(ProtocolError):
        public_key_from_b64("not base64!")
    with pytest.raises(ProtocolError):
        public_key_from_b64(base64.b64encode(b"x" * 31).decode())


def _signed_raw(cmd_obj: dict[str, object], v: object = 1) -> bytes:
    """A payload whose `cmd` is signed exactly as given, even where the guard will not read it."""
    sig = KEY.sign(DOMAIN + json.dumps(cmd_obj, sort_keys=True, separators=(",", ":"),
                                       ensure_ascii=False).encode())
    return json.dumps({"v": v, "cmd": cmd_obj, "sig": base64.b64encode(sig).decode()},
                      ensure_ascii=False).encode()


@pytest.mark.parametrize(("data", "reason"), [
    (_signed_raw({**cmd("open_drawer", printer="front").to_obj(),
                  "args": {"printer": "front", "颜色": "红"}}),
     "malformed: cmd.args.颜色: unknown field"),
    (_signed_raw(cmd("open_drawer", printer="front").to_obj(), v=2),
     "malformed: v: must be 1 (got 2)"),
    (_signed_raw({**cmd("open_drawer", printer="front").to_obj(), "expires_ms": "soon"}),
     "malformed: cmd.expires_ms: must be an integer, got a string"),
])
def test_a_malformed_command_is_refused_under_its_readable_nonce(data: bytes,
                                                                 reason: str) -> None:
    g = CommandGuard("CQ-JB-001-B1", PUB)
    with pytest.raises(CommandRefusedError) as e:
        g.admit(data, ISSUED)
    assert (e.value.reason, e.value.nonce, e.value.name) == (
        reason, "nonce-0000000000001", "open_drawer")
    assert g.remembered() == []


@pytest.mark.parametrize("data", [
    b"", b"\xff", b"[]", b'{"v":1}', b'{"v":1,"cmd":[]}', b'{"v":1,"cmd":{"nonce":7}}',
    b'{"v":1,"cmd":{"nonce":"short","name":"Open Drawer"}}',
    b'{"v":1,"cmd":{"nonce":"nonce-0000000000001\\n","name":"x\\n"}}',
])
def test_what_cannot_be_read_is_reported_empty(data: bytes) -> None:
    with pytest.raises(CommandRefusedError) as e:
        CommandGuard("CQ-JB-001-B1", PUB).admit(data, ISSUED)
    assert (e.value.nonce, e.value.name) == ("", "") and e.value.reason.startswith("malformed: ")
