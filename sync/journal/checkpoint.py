"""Checkpoints as C2SP signed notes: the box signs (alg 0x01), HQ cosigns (cosignature/v1, 0x04)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.record import public_bytes, verify_sig

ORIGIN_PREFIX = "storelink.journal/"
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
_NAME = re.compile(r"[!-*,-~]{1,128}")
_ORIGIN = re.compile(re.escape(ORIGIN_PREFIX) + r"([0-9a-f]{32})")
_SIZE = re.compile(r"0|[1-9][0-9]{0,15}")
_DASH = "\u2014"


def origin(log: str) -> str:
    """The checkpoint origin line (and the box's note key name) of a log."""
    return ORIGIN_PREFIX + log


def note_key_hash(name: str, alg: int, pub: bytes) -> bytes:
    """C2SP signed-note key id: SHA-256(name ‖ "\\n" ‖ alg ‖ public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + pub).digest()[:4]


def vkey(name: str, pub: bytes, alg: int = ALG_ED25519) -> str:
    """A C2SP verifier key string `name+keyhash+base64(alg ‖ pub)`."""
    return f"{name}+{note_key_hash(name, alg, pub).hex()}+" + base64.b64encode(
        bytes([alg]) + pub).decode("ascii")


def parse_vkey(text: str) -> tuple[str, int, Ed25519PublicKey]:
    """Parse a verifier key string into (name, algorithm byte, public key)."""
    parts = text.strip().split("+", 2)  # the base64 key may itself hold a "+"
    if len(parts) != 3 or _NAME.fullmatch(parts[0]) is None:
        raise RecordError("vkey", "must be name+keyhash+base64key")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise RecordError("vkey", "key part is not base64") from None
    if len(blob) != 33 or blob[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise RecordError("vkey", "must hold an Ed25519 key (alg 0x01 or 0x04)")
    if note_key_hash(parts[0], blob[0], blob[1:]).hex() != parts[1]:
        raise RecordError("vkey", "key hash does not match name and key")
    return parts[0], blob[0], Ed25519PublicKey.from_public_bytes(blob[1:])


def cosigner_keys(vkeys: Iterable[str]) -> dict[tuple[str, str], Ed25519PublicKey]:
    """HQ cosigner keys from vkey strings, keyed as cosign records name them (name, key hash)."""
    out = {}
    for text in vkeys:
        name, _, pub = parse_vkey(text)
        out[(name, note_key_hash(name, ALG_COSIGNATURE_V1, public_bytes(pub)).hex())] = pub
    return out


@dataclass(frozen=True)
class Checkpoint:
    """(log, size, head): the first `size` records end in the record whose hash is `head`."""

    log: str
    size: int
    head: bytes

    def body(self) -> str:
        """The note text: origin, size, base64 head hash, each line newline-terminated."""
        return f"{origin(self.log)}\n{self.size}\n{base64.b64encode(self.head).decode('ascii')}\n"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key hash, signature (cosignature: 8-byte time ‖ sig)."""

    name: str
    key_hash: bytes
    sig: bytes

    def line(self) -> str:
        """The `— name base64(keyhash ‖ sig)` line."""
        return f"{_DASH} {self.name} " + base64.b64encode(self.key_hash + self.sig).decode("ascii")


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signature lines (the box's, and any cosignatures)."""

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]

    def text(self) -> str:
        """The signed note as text."""
        return self.checkpoint.body() + "\n" + "".join(s.line() + "\n" for s in self.signatures)

    def with_signature(self, sig: NoteSignature) -> SignedCheckpoint:
        """The same note with one more signature line."""
        return SignedCheckpoint(self.checkpoint, (*self.signatures, sig))


def cosignature_message(cp: Checkpoint, timestamp: int) -> bytes:
    """What a cosigner signs (C2SP tlog-cosignature v1): header, time line, checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode("ascii") + cp.body().encode("utf-8")


def sign_checkpoint(cp: Checkpoint, key: Ed25519PrivateKey) -> SignedCheckpoint:
    """The box's signed note; its key name is the origin."""
    name = origin(cp.log)
    sig = NoteSignature(name, note_key_hash(name, ALG_ED25519, public_bytes(key)),
                        key.sign(cp.body().encode("utf-8")))
    return SignedCheckpoint(cp, (sig,))


def cosign(signed: SignedCheckpoint, name: str, key: Ed25519PrivateKey,
           timestamp: int) -> SignedCheckpoint:
    """HQ's cosignature (seconds since the epoch) added to a checkpoint it found consistent."""
    if _NAME.fullmatch(name) is None:
        raise RecordError("name", "a note key name has no spaces or '+'")
    message = cosignature_message(signed.checkpoint, timestamp)
    sig = timestamp.to_bytes(8, "big") + key.sign(message)
    return signed.with_signature(
        NoteSignature(name, note_key_hash(name, ALG_COSIGNATURE_V1, public_bytes(key)), sig))


def parse_note(text: str) -> SignedCheckpoint:
    """Parse a signed checkpoint note strictly (three body lines, then signature lines).

    CR LF line ends are read as LF (the signatures cover the LF form); any other CR is refused.
    """
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        raise RecordError("checkpoint", "holds a CR that does not end a line (notes use LF)")
    if not text.endswith("\n") or "\n\n" not in text:
        raise RecordError("checkpoint", "a signed note is text, a blank line, signature lines")
    body, _, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if len(lines) != 3:
        raise RecordError("checkpoint", "the body has exactly three lines")
    m = _ORIGIN.fullmatch(lines[0])
    if m is None:
        raise RecordError("checkpoint.origin", f"must be {ORIGIN_PREFIX}<32 hex digits>")
    if _SIZE.fullmatch(lines[1]) is None:
        raise RecordError("checkpoint.size", "must be a decimal number without leading zeros")
    try:
        head = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        head = b""
    if len(head) != 32 or base64.b64encode(head).decode("ascii") != lines[2]:
        raise RecordError("checkpoint.head", "must be the base64 of a 32-byte hash")
    signatures = []
    for i, line in enumerate(sigs[:-1].split("\n")):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH or _NAME.fullmatch(parts[1]) is None:
            raise RecordError(f"checkpoint.signatures[{i}]", "must be '— name base64'")
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise RecordError(f"checkpoint.signatures[{i}]", "is not base64") from None
        if len(blob) < 5:
            raise RecordError(f"checkpoint.signatures[{i}]", "is too short")
        signatures.append(NoteSignature(parts[1], blob[:4], blob[4:]))
    if not signatures:
        raise RecordError("checkpoint", "has no signature")
    return SignedCheckpoint(Checkpoint(m.group(1), int(lines[1]), head), tuple(signatures))


def box_signature_valid(signed: SignedCheckpoint, pub: Ed25519PublicKey) -> bool:
    """True if a signature line of the log's own key name verifies under `pub`."""
    name = origin(signed.checkpoint.log)
    want = note_key_hash(name, ALG_ED25519, public_bytes(pub))
    body = signed.checkpoint.body().encode("utf-8")
    return any(s.name == name and s.key_hash == want and len(s.sig) == 64
               and verify_sig(pub, s.sig, body) for s in signed.signatures)


def cosignature_time(signed: SignedCheckpoint, name: str, pub: Ed25519PublicKey) -> int | None:
    """The timestamp of a valid cosignature by (name, pub), or None if there is none."""
    want = note_key_hash(name, ALG_COSIGNATURE_V1, public_bytes(pub))
    for s in signed.signatures:
        if s.name == name and s.key_hash == want and len(s.sig) == 72:
            t = int.from_bytes(s.sig[:8], "big")
            if verify_sig(pub, s.sig[8:], cosignature_message(signed.checkpoint, t)):
                return t
    return None


def fork_report(a: SignedCheckpoint, b: SignedCheckpoint) -> str | None:
    """A self-contained misbehaviour report if two checkpoints of one log disagree at one size."""
    ca, cb = a.checkpoint, b.checkpoint
    if ca.log != cb.log or ca.size != cb.size or ca.head == cb.head:
        return None
    return (f"fork: log {ca.log} has two different heads at size {ca.size}\n\n"
            f"{a.text()}\n{b.text()}")
