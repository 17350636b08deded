"""The test vectors printed in docs/protocol.md are the ones the code produces."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.journal.checkpoint import Checkpoint, cosignature_time, parse_note
from sync.protocol.commands import SignedCommand, public_key_from_b64
from sync.protocol.messages import JournalAck

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
HQ_SEED = "989219ccba03004d0ac7dc8b5d484d5f9cc2cf054edb9b4ab975048f429b8e7f"


def _line(prefix: str) -> bytes:
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix) and line.endswith('"v":1}'):
            return line.encode()
    raise AssertionError(f"no line starting {prefix!r} in {DOC}")


def test_command_vector_verifies_with_the_documented_key() -> None:
    signed = SignedCommand.from_json(_line('{"cmd":'))
    assert signed.verify(public_key_from_b64("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="))
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    assert signed.verify(key.public_key())


def test_ack_vector_carries_hqs_cosignature_of_its_checkpoint() -> None:
    data = _line('{"at_ms":1795914100000')
    ack = JournalAck.from_json(data)
    assert ack.to_json() == data
    note = parse_note(str(ack.cosignature["note"]))  # type: ignore[index]
    assert note.checkpoint == Checkpoint(ack.log_id, ack.size, bytes.fromhex(ack.head))
    hq = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(HQ_SEED))
    assert cosignature_time(note, "storelink-hq", hq.public_key()) == 1795914100
    pub = public_key_from_b64("gG6E18ci925Y6HB+kTUxYPu6J2RsUc5rm06ww6seqCY=")
    assert cosignature_time(note, "storelink-hq", pub) == 1795914100
