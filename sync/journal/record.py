"""Records as bytes: canonical encoding, hash, signed statement, key ids, export lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.canonical import encode_unchecked, parse, parse_canonical
from sync.journal.schema import VERSION
from sync.journal.totals import Totals, signed_amount

HASH_TAG = b"storelink-journal-hash/v1\n"
KEY_TAG = b"storelink-journal-key/v1\n"
STATEMENT_HEADER = "storelink-journal-record/v1"
ROTATE_HEADER = "storelink-journal-key-rotate/v1"
ZERO_HASH = bytes(32)


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes_raw()


def key_id(pub: bytes) -> str:
    """Key id: the first 8 bytes of SHA-256(KEY_TAG ‖ public key), as 16 lowercase hex digits."""
    if len(pub) != 32:
        raise RecordError("pubkey", "an Ed25519 public key has 32 bytes")
    return hashlib.sha256(KEY_TAG + pub).hexdigest()[:16]


def record_hash(raw: bytes) -> bytes:
    """SHA-256(HASH_TAG ‖ canonical record bytes): the record's hash, the next record's `prev`."""
    h = hashlib.sha256(HASH_TAG)
    h.update(raw)
    return h.digest()


def statement(log: str, seq: int, time: int, type_: str, amount: int, key: str,
              hash_: bytes) -> bytes:
    """The exact bytes a record's Ed25519 signature covers (also rebuilt from a receipt code)."""
    return (f"{STATEMENT_HEADER}\nlog {log}\nseq {seq}\ntime {time}\ntype {type_}\n"
            f"amount {amount}\nkey {key}\nhash {hash_.hex()}\n").encode("ascii")


def record_statement(record: dict[str, Any], hash_: bytes) -> bytes:
    """The signed statement of a parsed record (the amount is taken leniently from its body)."""
    type_ = record["type"]
    return statement(record["log"], record["seq"], record["time"], type_,
                     signed_amount(type_, record["body"]), record["key"], hash_)


def rotation_statement(log: str, seq: int, prev: str, old: str, new: str) -> bytes:
    """What the new key signs as a key_rotate body's `proof`: possession, bound to this place."""
    return (f"{ROTATE_HEADER}\nlog {log}\nseq {seq}\nprev {prev}\nold {old}\nnew {new}\n"
            ).encode("ascii")


def verify_sig(pub: Ed25519PublicKey, sig: bytes, message: bytes) -> bool:
    """True if `sig` is a valid Ed25519 signature of `message` by `pub`."""
    try:
        pub.verify(sig, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class Entry:
    """One journal entry as stored: canonical record bytes, their hash, the signature."""

    raw: bytes
    hash: bytes
    sig: bytes

    def __init__(self, raw: bytes, hash: bytes, sig: bytes) -> None:
        # One per record written: see ChainHead.__init__ (sync.journal.rules) for why.
        d = self.__dict__
        d["raw"], d["hash"], d["sig"] = raw, hash, sig

    def record(self) -> dict[str, Any]:
        """The record as a JSON object (the bytes must be canonical)."""
        value = parse_canonical(self.raw)
        if not isinstance(value, dict):
            raise RecordError("record", "must be an object")
        return value

    def export_line(self) -> str:
        """The JSON Lines form: canonical {"hash","record","sig"}, newline-terminated."""
        return (f'{{"hash":"{self.hash.hex()}","record":{self.raw.decode("utf-8")},'
                f'"sig":"{self.sig.hex()}"}}\n')


def _hex_field(obj: dict[str, Any], name: str, size: int) -> bytes:
    value = obj.get(name)
    if type(value) is not str or len(value) != 2 * size or value != value.lower():
        raise RecordError(name, f"must be {2 * size} lowercase hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise RecordError(name, f"must be {2 * size} lowercase hex digits") from None


def parse_export_line(line: str | bytes) -> tuple[dict[str, Any], Entry]:
    """Parse one JSON Lines entry: the record object and the Entry (raw = its canonical bytes).

    The line must be the canonical encoding of its object, optionally followed by one LF
    (docs/journal.md §8): no spaces, CR, reordered members or escapes a writer would not make.
    """
    obj = parse(line, domain=False)  # ranges and key names are the schema's business (§9.2)
    if not isinstance(obj, dict) or set(obj) != {"hash", "record", "sig"}:
        raise RecordError("line", 'must be an object with exactly "hash", "record", "sig"')
    record = obj["record"]
    if not isinstance(record, dict):
        raise RecordError("record", "must be an object")
    text = line.decode("utf-8") if isinstance(line, bytes | bytearray) else line
    encoded = encode_unchecked(obj)
    if text != encoded and text != encoded + "\n":
        raise RecordError("line", "is not canonical JSON followed by LF")
    try:
        raw = encode_unchecked(record).encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("record", "holds a lone surrogate") from None
    return record, Entry(raw, _hex_field(obj, "hash", 32), _hex_field(obj, "sig", 64))


def encode_record(*, log: str, seq: int, time: int, boot: str, type_: str,
                  body: dict[str, Any], prev: bytes, totals: Totals, key: str
                  ) -> tuple[dict[str, Any], bytes]:
    """Assemble a record object and its canonical bytes (fields are validated by the caller)."""
    record, text = record_text(log=log, seq=seq, time=time, boot=boot, type_=type_, body=body,
                               prev=prev, totals=totals, key=key)
    return record, utf8(text)


def record_text(*, log: str, seq: int, time: int, boot: str, type_: str, body: dict[str, Any],
                prev: bytes, totals: Totals, key: str) -> tuple[dict[str, Any], str]:
    """Like encode_record, but the canonical text (a store keeps it as text, hashes its UTF-8)."""
    prev_hex, totals_json = prev.hex(), totals.to_json()
    record = {"body": body, "boot": boot, "key": key, "log": log, "prev": prev_hex, "seq": seq,
              "time": time, "totals": totals_json, "type": type_, "v": VERSION}
    if (type(seq) is int and type(time) is int and type(boot) is str and type(key) is str
            and type(log) is str and type(type_) is str):
        # The members in their canonical (sorted) order, each encoded as the whole would be.
        return record, (
            f'{{"body":{encode_unchecked(body)},"boot":{encode_basestring(boot)},'
            f'"key":{encode_basestring(key)},"log":{encode_basestring(log)},'
            f'"prev":"{prev_hex}","seq":{seq},"time":{time},'
            f'"totals":{encode_unchecked(totals_json)},"type":{encode_basestring(type_)},'
            f'"v":{VERSION}}}')
    return record, encode_unchecked(record)


def utf8(text: str) -> bytes:
    """A record's text as bytes; RecordError if a string in it holds a lone surrogate."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("body", "a string holds a lone surrogate (not Unicode text)") from None


def sign_record(record: dict[str, Any], raw: bytes, signer: Ed25519PrivateKey) -> Entry:
    """Hash the canonical bytes and sign the record's statement."""
    h = record_hash(raw)
    return Entry(raw, h, signer.sign(record_statement(record, h)))
