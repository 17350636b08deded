"""Building the next record from the chain head: pure; used by the box's store and test vectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.journal import RecordError
from sync.journal.checkpoint import Checkpoint, SignedCheckpoint, sign_checkpoint
from sync.journal.record import (
    ZERO_HASH,
    Entry,
    encode_record,
    key_id,
    public_bytes,
    record_hash,
    record_statement,
    record_text,
    rotation_statement,
    utf8,
)
from sync.journal.rules import (
    ChainHead,
    CloseMark,
    Cosigners,
    Ledger,
    MemoryLedger,
    advance,
    expected_period,
    start,
)
from sync.journal.schema import validate_body
from sync.journal.totals import Totals, apply


def genesis_entry(*, log: str, time: int, boot: str, key: Ed25519PrivateKey, software: str,
                  extra: Mapping[str, str] | None = None) -> tuple[Entry, ChainHead]:
    """The first record of a new log; `extra` may name store, device and shop name."""
    pub = public_bytes(key)
    body: dict[str, Any] = {"pubkey": pub.hex(), "software": software, **(extra or {})}
    validate_body("genesis", body, 0)
    record, raw = encode_record(log=log, seq=0, time=time, boot=boot, type_="genesis", body=body,
                                prev=ZERO_HASH, totals=apply(Totals(), "genesis", body),
                                key=key_id(pub))
    h = record_hash(raw)
    head = start(record, h)
    return Entry(raw, h, key.sign(record_statement(record, h))), head


class Unsigned(NamedTuple):
    """A record built and checked but not yet signed: what to sign, and the head after it."""

    text: str
    """The canonical record as text (`raw` is its UTF-8)."""
    raw: bytes
    hash: bytes
    statement: bytes
    """The bytes its Ed25519 signature must cover (docs/journal.md §4)."""
    head: ChainHead


def build_next(head: ChainHead, *, type_: str, body: dict[str, Any], time: int, boot: str,
               ledger: Ledger, cosigners: Cosigners | None = None) -> Unsigned:
    """Validate and build the record after `head`, for its current key to sign; raise
    RecordError (nothing is built). Signing is left to the caller so that it can be batched.

    Every rule the verifier applies is applied here, so a writer never stores a record that
    verification would reject.
    """
    validate_body(type_, body, head.size)  # the schema admits only canonical-domain values
    totals = apply(head.totals, type_, body)
    record, text = record_text(log=head.log, seq=head.size, time=time, boot=boot, type_=type_,
                               body=body, prev=head.hash, totals=totals, key=head.key)
    raw = utf8(text)
    h = record_hash(raw)
    new_head = advance(head, record, h, ledger, cosigners, body_checked=True, totals=totals)
    return Unsigned(text, raw, h, record_statement(record, h), new_head)


def next_entry(head: ChainHead, *, type_: str, body: dict[str, Any], time: int, boot: str,
               signer: Ed25519PrivateKey, ledger: Ledger, cosigners: Cosigners | None = None,
               signer_id: str | None = None) -> tuple[Entry, ChainHead]:
    """Validate, build and sign the record after `head`; raise RecordError (nothing is built).

    Every rule the verifier applies is applied here, so a writer never stores a record that
    verification would reject. `signer_id` is the signer's key id if the caller knows it.
    """
    if (signer_id or key_id(public_bytes(signer))) != head.key:
        raise RecordError("key", f"the signing key is not the chain's current key {head.key}",
                          "key")
    built = build_next(head, type_=type_, body=body, time=time, boot=boot, ledger=ledger,
                       cosigners=cosigners)
    return Entry(built.raw, built.hash, signer.sign(built.statement)), built.head


def day_close_body(head: ChainHead, day: str, **extra: Any) -> dict[str, Any]:
    """The body of a day close appended after `head` (Z number, range and period computed)."""
    return {"day": day, **expected_period(head), **extra}


def key_rotate_body(head: ChainHead, new_key: Ed25519PrivateKey, reason: str) -> dict[str, Any]:
    """The body of a key rotation appended after `head`, with the new key's proof of possession."""
    pub = public_bytes(new_key)
    new = key_id(pub)
    proof = new_key.sign(rotation_statement(head.log, head.size, head.hash.hex(), head.key, new))
    return {"new_key": new, "new_pubkey": pub.hex(), "reason": reason, "proof": proof.hex()}


def checkpoint_of(head: ChainHead) -> Checkpoint:
    """The checkpoint (log, size, head hash) of the chain as it stands."""
    return Checkpoint(head.log, head.size, head.hash)


def cosign_body(signed: SignedCheckpoint, cosigner: str) -> dict[str, Any]:
    """The body of a cosign record holding `cosigner`'s cosignature from a signed checkpoint."""
    for s in signed.signatures:
        if s.name == cosigner and len(s.sig) == 72:
            return {"cosigner": cosigner, "key_hash": s.key_hash.hex(),
                    "size": signed.checkpoint.size, "head": signed.checkpoint.head.hex(),
                    "time": int.from_bytes(s.sig[:8], "big"), "sig": s.sig[8:].hex()}
    raise RecordError("checkpoint.signatures", f"no cosignature by {cosigner}", "cosign")


def restore_head(last: Mapping[str, Any], last_hash: bytes, last_close: Mapping[str, Any] | None,
                 cosigned: int) -> ChainHead:
    """The head of a stored chain from its last record, its last day close and last cosign size."""
    genesis_totals = apply(Totals(), "genesis", {})
    close = (CloseMark(last_close["seq"], last_close["body"]["z"],
                       Totals.from_json(last_close["totals"]))
             if last_close is not None else CloseMark(0, 0, genesis_totals))
    key = last["body"]["new_key"] if last["type"] == "key_rotate" else last["key"]
    return ChainHead(last["log"], last["seq"] + 1, last_hash, last["time"],
                     Totals.from_json(last["totals"]), key, close, cosigned)



class MemoryChain:
    """A journal writer in memory (test vectors, simulations, tests); the store writes SQLite."""

    def __init__(self, *, log: str, key: Ed25519PrivateKey, time: int, boot: str,
                 software: str = "storelink/0.1.0", extra: Mapping[str, str] | None = None,
                 cosigners: Cosigners | None = None) -> None:
        entry, self.head = genesis_entry(log=log, time=time, boot=boot, key=key,
                                         software=software, extra=extra)
        self.signer = key
        self.boot = boot
        self.cosigners = cosigners
        self.ledger = MemoryLedger()
        self.entries: list[Entry] = []
        self._keep(entry, "genesis", entry.record()["body"])

    def _keep(self, entry: Entry, type_: str, body: Mapping[str, Any]) -> Entry:
        self.ledger.observe(len(self.entries), type_, body, entry.hash)
        self.entries.append(entry)
        return entry

    def append(self, type_: str, body: dict[str, Any], time: int) -> Entry:
        """Append one record; raise RecordError and change nothing if it breaks a rule."""
        entry, self.head = next_entry(self.head, type_=type_, body=body, time=time,
                                      boot=self.boot, signer=self.signer, ledger=self.ledger,
                                      cosigners=self.cosigners)
        return self._keep(entry, type_, body)

    def day_close(self, day: str, time: int, **extra: Any) -> Entry:
        """Append a day close with its computed period."""
        return self.append("day_close", day_close_body(self.head, day, **extra), time)

    def rotate(self, new_key: Ed25519PrivateKey, reason: str, time: int) -> Entry:
        """Append a key rotation (signed by the old key) and sign with the new key from then on."""
        entry = self.append("key_rotate", key_rotate_body(self.head, new_key, reason), time)
        self.signer = new_key
        return entry

    def checkpoint(self) -> SignedCheckpoint:
        """The current head as a checkpoint signed by the current key."""
        return sign_checkpoint(checkpoint_of(self.head), self.signer)
