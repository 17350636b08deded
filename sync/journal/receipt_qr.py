"""The receipt QR code (docs/journal.md §11): one record's signed statement, checkable offline.

The text uses only the QR alphanumeric alphabet (upper-case hex, digits, `-`, `:`) so the code
stays small: about 280 characters, QR version 10 at error level M.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.record import Entry, key_id, public_bytes, statement, verify_sig
from sync.journal.schema import TYPES
from sync.journal.totals import signed_amount

PREFIX = "SLJ1"
_FIELDS = ("prefix", "log", "seq", "time", "type", "amount", "key", "hash", "sig")
_RX = {
    "log": re.compile(r"[0-9A-F]{32}"),
    "seq": re.compile(r"0|[1-9][0-9]{0,15}"),
    "time": re.compile(r"0|[1-9][0-9]{0,15}"),
    "type": re.compile(r"[A-Z-]{1,16}"),
    "amount": re.compile(r"0|-?[1-9][0-9]{0,15}"),
    "key": re.compile(r"[0-9A-F]{16}"),
    "hash": re.compile(r"[0-9A-F]{64}"),
    "sig": re.compile(r"[0-9A-F]{128}"),
}


@dataclass(frozen=True)
class ReceiptCode:
    """What a receipt's QR code states: which record of which log, amount, hash, signature."""

    log: str
    seq: int
    time: int
    type: str
    amount: int
    key: str
    hash: bytes
    sig: bytes

    def text(self) -> str:
        """The QR payload: `SLJ1:LOG:SEQ:TIME:TYPE:AMOUNT:KEY:HASH:SIG`, upper case."""
        return ":".join((PREFIX, self.log.upper(), str(self.seq), str(self.time),
                         self.type.upper().replace("_", "-"), str(self.amount), self.key.upper(),
                         self.hash.hex().upper(), self.sig.hex().upper()))

    def statement(self) -> bytes:
        """The record statement the signature covers (docs/journal.md §4)."""
        return statement(self.log, self.seq, self.time, self.type, self.amount, self.key,
                         self.hash)


def from_entry(entry: Entry) -> ReceiptCode:
    """The receipt code of a stored entry."""
    r = entry.record()
    return ReceiptCode(r["log"], r["seq"], r["time"], r["type"],
                       signed_amount(r["type"], r["body"]), r["key"], entry.hash, entry.sig)


def parse_receipt(text: str) -> ReceiptCode:
    """Parse a scanned QR payload (case-insensitive); raise RecordError naming the bad field."""
    parts = text.strip().upper().split(":")
    if len(parts) != len(_FIELDS) or parts[0] != PREFIX:
        raise RecordError("receipt", f"must be {PREFIX}: followed by 8 fields separated by ':'")
    values = dict(zip(_FIELDS, parts, strict=True))
    for name, rx in _RX.items():
        if rx.fullmatch(values[name]) is None:
            raise RecordError(f"receipt.{name}", "is malformed")
    type_ = values["type"].lower().replace("-", "_")
    if type_ not in TYPES:
        raise RecordError("receipt.type", f"unknown record type {type_!r}")
    return ReceiptCode(values["log"].lower(), int(values["seq"]), int(values["time"]), type_,
                       int(values["amount"]), values["key"].lower(), bytes.fromhex(values["hash"]),
                       bytes.fromhex(values["sig"]))


def verify_receipt(code: ReceiptCode, keys: Iterable[Ed25519PublicKey]) -> bool:
    """True if one of `keys` has the code's key id and its signature of the statement verifies."""
    message = code.statement()
    return any(key_id(public_bytes(k)) == code.key and verify_sig(k, code.sig, message)
               for k in keys)
