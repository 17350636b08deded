"""Incremental verification of a journal (docs/journal.md §9): feed entries in order, keep state.

HQ keeps one Verifier per box and feeds records as they arrive; the CLI feeds a whole export.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.canonical import parse_canonical_fast
from sync.journal.checkpoint import SignedCheckpoint, box_signature_valid, cosignature_time
from sync.journal.fastparse import split_record
from sync.journal.receipt_qr import ReceiptCode, verify_receipt
from sync.journal.record import (
    key_id,
    parse_export_line,
    record_hash,
    record_statement,
    verify_sig,
)
from sync.journal.rules import ChainHead, Cosigners, MemoryLedger, advance, start
from sync.journal.schema import check_envelope, validate_body
from sync.journal.totals import apply, canonical_text

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Failure:
    """The first problem found: the seq where it is, a stable code, and a reason for people."""

    seq: int
    code: str
    reason: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.code}: {self.reason}"


@dataclass(frozen=True)
class Precheck:
    """Per-record work done elsewhere (a worker process): canonical form, hash, signature."""

    canonical: bool
    hash: bytes
    sig_ok: bool
    """The signature verified under `key` (the key the record names; genesis: body.pubkey)."""
    key: bytes = b""


class Verifier:
    """Checks a journal record by record; after the first failure it stays failed.

    `trusted`: raw public keys of which one must appear in the chain (genesis or rotation);
    `cosigners`: HQ keys whose cosignatures in cosign records are then checked.
    """

    def __init__(self, *, log: str | None = None, trusted: Iterable[bytes] = (),
                 cosigners: Cosigners | None = None) -> None:
        self.head: ChainHead | None = None
        self.failure: Failure | None = None
        self.keys: dict[str, Ed25519PublicKey] = {}
        self.key_bytes: dict[str, bytes] = {}
        self.ledger = MemoryLedger()
        self._log = log
        self._trusted_keys = [Ed25519PublicKey.from_public_bytes(k) for k in trusted]
        self._trusted = {key_id(k) for k in trusted}
        self._trusted_seen = False
        self._cosigners = cosigners

    @property
    def size(self) -> int:
        """Number of records accepted so far."""
        return self.head.size if self.head is not None else 0

    def _fail(self, seq: int, code: str, reason: str) -> Failure:
        self.failure = Failure(seq, code, reason)
        return self.failure

    def reject(self, code: str, reason: str) -> Failure:
        """Fail at the next seq for a reason found outside (an unreadable entry)."""
        return self.failure or self._fail(self.size, code, reason)

    def feed(self, raw: bytes, sig: bytes, stored_hash: bytes | None = None,
             pre: Precheck | None = None) -> Failure | None:
        """Check the next entry given as stored bytes (SQLite row); None if it is valid."""
        if self.failure is not None:
            return self.failure
        if pre is None:
            split = split_record(raw)
            if split is not None and self._accept(split[0], split[1], raw, sig, stored_hash):
                return None
        elif not pre.canonical:
            return self._fail(self.size, "canonical", "the record bytes are not canonical JSON")
        try:
            record = parse_canonical_fast(raw) if pre is None else json.loads(raw)
        except RecordError as e:
            return self._fail(self.size, "canonical", f"{e.field}: {e.reason}")
        return self.feed_record(record, raw, sig, stored_hash, pre)

    def feed_line(self, line: str | bytes) -> Failure | None:
        """Check the next entry given as a JSON Lines export line."""
        if self.failure is not None:
            return self.failure
        parts = _split_line(line)
        if parts is not None:  # the layout export writes: the record's bytes are in the line
            raw, stored, sig = parts
            split = split_record(raw)
            if split is not None and self._accept(split[0], split[1], raw, sig, stored):
                return None
        try:
            record, entry = parse_export_line(line)
        except RecordError as e:
            return self._fail(self.size, "canonical", f"{e.field}: {e.reason}")
        return self.feed_record(record, entry.raw, entry.sig, entry.hash)

    def feed_record(self, record: Any, raw: bytes, sig: bytes, stored_hash: bytes | None = None,
                    pre: Precheck | None = None) -> Failure | None:
        """Check a parsed record whose canonical bytes are `raw`."""
        if self.failure is not None:
            return self.failure
        head = self.head
        n = head.size if head is not None else 0
        try:
            check_envelope(record)
        except RecordError as e:
            return self._fail(n, "malformed", f"{e.field}: {e.reason}")
        seq = record["seq"]
        if seq != n:
            how = "a record is missing or out of order" if seq > n else "duplicated or out of order"
            return self._fail(n, "seq", f"expected seq {n}, found {seq}: {how}")
        if head is None:
            if self._log is not None and record["log"] != self._log:
                return self._fail(n, "log", f"log {record['log']} is not the expected {self._log}")
        elif record["log"] != head.log:
            return self._fail(n, "log", f"log {record['log']} is not the journal's {head.log}")
        elif record["prev"] != head.hash.hex():
            return self._fail(n, "prev", "prev is not the hash of the previous record")
        h = pre.hash if pre is not None else record_hash(raw)
        if stored_hash is not None and stored_hash != h:
            return self._fail(n, "hash", "the stored hash is not the hash of the record bytes")
        if head is None:
            pub = _genesis_key(record)
            if pub is None:
                return self._fail(0, "genesis", "body.pubkey is not an Ed25519 public key")
            pub_bytes = bytes.fromhex(record["body"]["pubkey"])
        else:
            found = self.keys.get(record["key"])
            if record["key"] != head.key or found is None:
                return self._fail(n, "key", f"signed by key {record['key']}, the current key is "
                                  f"{head.key}")
            pub, pub_bytes = found, self.key_bytes[head.key]
        # A worker's verdict counts only if it used this very key; otherwise check here.
        ok = (pre is not None and pre.sig_ok and pre.key == pub_bytes) or verify_sig(
            pub, sig, record_statement(record, h))
        if not ok:
            return self._fail(n, "signature", f"not a valid signature by key {record['key']}")
        try:
            new = (start(record, h) if head is None
                   else advance(head, record, h, self.ledger, self._cosigners))
        except RecordError as e:
            return self._fail(n, e.code, f"{e.field}: {e.reason}")
        self._accepted(new, record, h)
        return None

    def _accept(self, record: dict[str, Any], totals_text: str, raw: bytes, sig: bytes,
                stored_hash: bytes | None) -> bool:
        # The common case in one pass, for a record read by split_record (everything but its
        # totals canonical and well-formed): True if it passes every check of §9.2, the state
        # updated as feed_record would; False, with nothing changed, to let feed_record decide
        # (it then finds the first failing check, in order, on the fully parsed record).
        head = self.head
        if head is None:
            return False
        n = head.size
        if record["seq"] != n or record["log"] != head.log or record["prev"] != head.hash.hex():
            return False
        h = record_hash(raw)
        key = record["key"]
        pub = self.keys.get(key)
        if ((stored_hash is not None and stored_hash != h) or key != head.key or pub is None
                or not verify_sig(pub, sig, record_statement(record, h))):
            return False
        type_, body = record["type"], record["body"]
        try:
            validate_body(type_, body, n)  # advance() would check it first
            expected = apply(head.totals, type_, body)
            # Equal text: the totals are canonical and the expected ones (§9.2 steps 1, 10.4).
            if totals_text != canonical_text(expected):
                return False
            new = advance(head, record, h, self.ledger, self._cosigners, body_checked=True,
                          totals=expected)
        except RecordError:
            return False
        self._accepted(new, record, h)
        return True

    def _accepted(self, new: ChainHead, record: Mapping[str, Any], h: bytes) -> None:
        type_ = record["type"]
        self.ledger.observe(new.size - 1, type_, record["body"], h)
        if type_ in ("genesis", "key_rotate"):
            field = "pubkey" if type_ == "genesis" else "new_pubkey"
            raw_pub = bytes.fromhex(record["body"][field])
            self.keys[new.key] = Ed25519PublicKey.from_public_bytes(raw_pub)
            self.key_bytes[new.key] = raw_pub
            self._trusted_seen = self._trusted_seen or new.key in self._trusted
        self.head = new

    def finish(self) -> Failure | None:
        """End-of-input checks: a journal has a genesis, and a trusted key if any was given."""
        if self.failure is not None:
            return self.failure
        if self.head is None:
            return self._fail(0, "genesis", "the journal is empty")
        if self._trusted and not self._trusted_seen:
            return self._fail(0, "key", "no key of this journal is one of the trusted keys")
        return None

    def check_checkpoint(self, signed: SignedCheckpoint,
                         cosigners: Mapping[str, Ed25519PublicKey] | None = None
                         ) -> Failure | None:
        """Compare a signed checkpoint with the journal fed so far: truncation and forks.

        Raises RecordError if the checkpoint is for another log or carries no signature
        verifiable with this journal's keys, a trusted key, or a given HQ cosigner key.
        """
        cp = signed.checkpoint
        if self.head is None or cp.log != self.head.log:
            raise RecordError("checkpoint.origin", "is not this journal's log", "checkpoint")
        known = [*self.keys.values(), *self._trusted_keys]
        signed_ok = any(box_signature_valid(signed, pub) for pub in known) or any(
            cosignature_time(signed, name, pub) is not None
            for name, pub in (cosigners or {}).items())
        if not signed_ok:
            raise RecordError("checkpoint.signatures",
                                "none verifies with this journal's keys or a given HQ key",
                                "checkpoint")
        if cp.size > self.size:
            return self._fail(self.size, "truncated", f"the checkpoint covers {cp.size} records, "
                              f"the journal has {self.size}")
        if cp.size == 0:
            return None
        if self.ledger.hash_at(cp.size - 1) != cp.head:
            return self._fail(cp.size - 1, "fork", f"record {cp.size - 1} is not the head the "
                              "checkpoint names: the history was rewritten")
        return None


    def check_receipt(self, code: ReceiptCode) -> Failure | None:
        """Compare a receipt's code with the journal fed so far (docs/journal.md §11): a
        receipt for a record the journal lacks is a cut-off tail, one whose hash differs a fork.

        Raises RecordError if the receipt is of another log or its signature does not verify
        with this journal's keys or a trusted key (the receipt is then no evidence).
        """
        if self.head is None or code.log != self.head.log:
            raise RecordError("receipt.log", "is not this journal's log", "receipt")
        if not verify_receipt(code, [*self.keys.values(), *self._trusted_keys]):
            raise RecordError("receipt.sig", "does not verify with this journal's keys",
                              "receipt")
        if code.seq >= self.size:
            return self._fail(self.size, "truncated", f"a receipt shows record {code.seq}, "
                              f"the journal has {self.size} records")
        if self.ledger.hash_at(code.seq) != code.hash:
            return self._fail(code.seq, "fork", f"record {code.seq} is not the one the "
                              "receipt shows: the history was rewritten")
        return None


_LINE_HEAD = re.compile(r'\{"hash":"([0-9a-f]{64})","record":')
_LINE_TAIL = re.compile(r',"sig":"([0-9a-f]{128})"\}\n?\Z')


def _split_line(line: str | bytes) -> tuple[bytes, bytes, bytes] | None:
    # (record bytes, hash, signature) of a line laid out exactly as Entry.export_line writes
    # it, else None. The record part may still be anything: the caller checks it is canonical.
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
        head = _LINE_HEAD.match(text)
        tail = _LINE_TAIL.search(text, max(0, len(text) - 140))
        if head is None or tail is None or tail.start() < head.end():
            return None
        return (text[head.end():tail.start()].encode("utf-8"), bytes.fromhex(head[1]),
                bytes.fromhex(tail[1]))
    except UnicodeError:
        return None


def _genesis_key(record: Mapping[str, Any]) -> Ed25519PublicKey | None:
    body = record["body"]
    pub = body.get("pubkey") if isinstance(body, dict) else None
    if type(pub) is not str or _HEX64.fullmatch(pub) is None:
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub))
    except ValueError:
        return None
