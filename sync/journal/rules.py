"""The rules linking a record to the ones before it (docs/journal.md §9): writer and verifier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.checkpoint import Checkpoint, cosignature_message
from sync.journal.record import ZERO_HASH, key_id, rotation_statement, verify_sig
from sync.journal.schema import validate_body
from sync.journal.totals import Totals, apply, difference, first_difference, follow


@dataclass(frozen=True)
class SaleState:
    """What later records may do to a sale: refund what is left, void it while its day is open."""

    total: int
    refunded: int
    voided: bool
    payments: list[dict[str, Any]] | None
    """The sale's payments, kept while it can still be voided (None once its day is closed)."""


class Ledger(Protocol):
    """Read access to earlier records that the rules need (in memory, or SQL in the store)."""

    def type_at(self, seq: int) -> str | None:
        """The type of record `seq`, or None if there is none."""

    def sale(self, seq: int) -> SaleState | None:
        """The state of sale `seq`, or None if record `seq` is not a sale."""

    def hash_at(self, seq: int) -> bytes | None:
        """The hash of record `seq`, or None if unknown."""


@dataclass(frozen=True)
class CloseMark:
    """The last day close: its seq (0 = none yet: genesis), Z number, and totals after it."""

    seq: int
    z: int
    totals: Totals


@dataclass(frozen=True)
class ChainHead:
    """Everything the next record depends on."""

    log: str
    size: int
    hash: bytes
    time: int
    totals: Totals
    key: str
    close: CloseMark
    cosigned: int = 0
    """Largest checkpoint size cosigned so far (from cosign records)."""

    def __init__(self, log: str, size: int, hash: bytes, time: int, totals: Totals, key: str,
                 close: CloseMark, cosigned: int = 0) -> None:
        # One head per record written or verified: storing into __dict__ directly costs a third
        # of the generated frozen __init__ (object.__setattr__ per field). Same fields, same order.
        d = self.__dict__
        d["log"], d["size"], d["hash"], d["time"] = log, size, hash, time
        d["totals"], d["key"], d["close"], d["cosigned"] = totals, key, close, cosigned


Cosigners = Mapping[tuple[str, str], Ed25519PublicKey]
"""HQ keys that may cosign: (note key name, 8-hex key hash) → public key."""


class MemoryLedger:
    """The ledger kept by a verifier or an in-memory writer: ~40 bytes per record."""

    _CODES: ClassVar[dict[str, int]] = {t: i for i, t in enumerate((
        "genesis", "sale", "refund", "void", "payment", "day_close", "handover", "approval",
        "audit", "key_rotate", "clock_set", "device_fault", "cosign", "production_task", "split",
        "handover_undo"))}
    _NAMES: ClassVar[tuple[str, ...]] = tuple(_CODES)

    def __init__(self) -> None:
        self._types = bytearray()
        self._hashes = bytearray()
        self._sales: dict[int, list[int]] = {}
        self._open: dict[int, list[dict[str, Any]]] = {}

    def type_at(self, seq: int) -> str | None:
        """See Ledger."""
        return self._NAMES[self._types[seq]] if 0 <= seq < len(self._types) else None

    def hash_at(self, seq: int) -> bytes | None:
        """See Ledger."""
        return bytes(self._hashes[32 * seq:32 * seq + 32]) if 0 <= seq < len(self._types) else None

    def sale(self, seq: int) -> SaleState | None:
        """See Ledger."""
        s = self._sales.get(seq)
        if s is None:
            return None
        return SaleState(s[0], s[1], bool(s[2]), self._open.get(seq))

    def observe(self, seq: int, type_: str, body: Mapping[str, Any], hash_: bytes) -> None:
        """Record that `seq` (the next one) was accepted."""
        if seq != len(self._types):
            raise RecordError("seq", f"ledger expected seq {len(self._types)}, got {seq}", "seq")
        self._types.append(self._CODES[type_])
        self._hashes += hash_
        if type_ == "sale":
            self._sales[seq] = [body["total"], 0, 0]
            self._open[seq] = body["payments"]
        elif type_ == "refund":
            self._sales[body["sale_seq"]][1] += body["total"]
        elif type_ == "void":
            self._sales[body["sale_seq"]][2] = 1
        elif type_ == "day_close":
            self._open.clear()


_REFERRING = frozenset(("refund", "void"))
_PLAIN = frozenset(("sale", "refund", "void", "payment", "handover", "approval", "audit",
                    "clock_set", "device_fault"))
"""Types whose records change nothing in the head but size, hash, time and totals."""


def _check_references(type_: str, body: Mapping[str, Any], ledger: Ledger,
                      close: CloseMark) -> None:
    if "approval_seq" in body and ledger.type_at(body["approval_seq"]) != "approval":
        raise RecordError("body.approval_seq",
                          f"record {body['approval_seq']} is not an approval", "reference")
    if type_ not in ("refund", "void"):
        return
    ref = body["sale_seq"]
    sale = ledger.sale(ref)
    if sale is None:
        raise RecordError("body.sale_seq", f"record {ref} is not a sale", "reference")
    if sale.voided:
        raise RecordError("body.sale_seq", f"sale {ref} was voided", "reference")
    if type_ == "refund":
        if sale.refunded + body["total"] > sale.total:
            raise RecordError("body.total", f"refunds of sale {ref} would exceed its total "
                                f"{sale.total} (already refunded {sale.refunded})", "reference")
        return
    if ref <= close.seq or sale.payments is None:
        raise RecordError("body.sale_seq", f"sale {ref} belongs to a closed day", "reference")
    if sale.refunded:
        raise RecordError("body.sale_seq", f"sale {ref} was partly refunded", "reference")
    if body["total"] != sale.total:
        raise RecordError("body.total", f"must equal the sale's total {sale.total}", "reference")
    if body["payments"] != sale.payments:
        raise RecordError("body.payments", "must equal the sale's payments", "reference")


def expected_period(head: ChainHead) -> dict[str, Any]:
    """Z number, seq range and period totals a day close appended after `head` must carry."""
    return {"z": head.close.z + 1, "from_seq": head.close.seq + 1, "to_seq": head.size - 1,
            "period": difference(head.totals, head.close.totals).to_json()}


def _check_day_close(head: ChainHead, body: Mapping[str, Any]) -> None:
    want = expected_period(head)
    for key in ("z", "from_seq", "to_seq"):
        if body[key] != want[key]:
            raise RecordError(f"body.{key}", f"expected {want[key]}, found {body[key]}", "totals")
    diff = first_difference(Totals.from_json(want["period"]), body["period"], "body.period")
    if diff is not None:
        raise RecordError("body.period", diff, "totals")


def _check_rotation(record: Mapping[str, Any]) -> None:
    body = record["body"]
    pub = bytes.fromhex(body["new_pubkey"])
    if key_id(pub) != body["new_key"]:
        raise RecordError("body.new_key", "is not the key id of new_pubkey", "rotation")
    if body["new_key"] == record["key"]:
        raise RecordError("body.new_key", "is the key already in use", "rotation")
    message = rotation_statement(record["log"], record["seq"], record["prev"], record["key"],
                                 body["new_key"])
    try:
        new_key = Ed25519PublicKey.from_public_bytes(pub)
    except ValueError:
        raise RecordError("body.new_pubkey", "is not an Ed25519 public key", "rotation") from None
    if not verify_sig(new_key, bytes.fromhex(body["proof"]), message):
        raise RecordError("body.proof", "is not the new key's signature of the rotation",
                            "rotation")


def _check_cosign(head: ChainHead, body: Mapping[str, Any], ledger: Ledger,
                  cosigners: Cosigners | None) -> None:
    size = body["size"]
    if size < head.cosigned:
        raise RecordError("body.size", f"is smaller than the size {head.cosigned} cosigned "
                            "before", "cosign")
    if ledger.hash_at(size - 1) != bytes.fromhex(body["head"]):
        raise RecordError("body.head", f"is not the hash of record {size - 1}", "cosign")
    if not cosigners:
        return
    pub = cosigners.get((body["cosigner"], body["key_hash"]))
    if pub is None:
        raise RecordError("body.cosigner", "is not a known HQ key", "cosign")
    message = cosignature_message(Checkpoint(head.log, size, bytes.fromhex(body["head"])),
                                  body["time"])
    if not verify_sig(pub, bytes.fromhex(body["sig"]), message):
        raise RecordError("body.sig", "is not a valid cosignature", "cosign")


def start(record: Mapping[str, Any], hash_: bytes) -> ChainHead:
    """Check a genesis record and return the head after it."""
    body = record["body"]
    if record["type"] != "genesis" or record["seq"] != 0:
        raise RecordError("type", "the first record must be genesis with seq 0", "genesis")
    validate_body("genesis", body, 0)
    if record["prev"] != ZERO_HASH.hex():
        raise RecordError("prev", "genesis prev must be 64 zeros", "genesis")
    if key_id(bytes.fromhex(body["pubkey"])) != record["key"]:
        raise RecordError("key", "is not the key id of body.pubkey", "genesis")
    totals = apply(Totals(), "genesis", body)
    diff = first_difference(totals, record["totals"])
    if diff is not None:
        raise RecordError("totals", diff, "totals")
    return ChainHead(record["log"], 1, hash_, record["time"], totals, record["key"],
                     CloseMark(0, 0, totals))


def advance(head: ChainHead, record: Mapping[str, Any], hash_: bytes, ledger: Ledger,
            cosigners: Cosigners | None = None, *, body_checked: bool = False,
            totals: Totals | None = None) -> ChainHead:
    """Check the semantic rules for `record` after `head`; return the new head.

    Envelope, seq, log, prev, hash and signature are checked by the caller before this.
    A writer passes `body_checked` and the `totals` it put in the record (built by `apply`).
    """
    type_, body, seq, time = record["type"], record["body"], record["seq"], record["time"]
    if not body_checked:
        validate_body(type_, body, seq)
    if type_ == "clock_set":
        if time != body["to"]:
            raise RecordError("time", "a clock_set's time must equal body.to", "time")
    elif time < head.time:
        raise RecordError("time", f"{time} is before the previous record's "
                            f"{head.time} and no clock_set says why", "time")
    if type_ in _REFERRING or "approval_seq" in body:
        _check_references(type_, body, ledger, head.close)
    if totals is None:
        totals = follow(head.totals, type_, body, record["totals"])
    new = ChainHead(head.log, seq + 1, hash_, time, totals, head.key, head.close, head.cosigned)
    if type_ in _PLAIN:
        return new
    if type_ == "day_close":
        _check_day_close(head, body)
        return replace(new, close=CloseMark(seq, body["z"], totals))
    if type_ == "key_rotate":
        _check_rotation(record)
        return replace(new, key=body["new_key"])
    if type_ == "cosign":
        _check_cosign(head, body, ledger, cosigners)
        return replace(new, cosigned=body["size"])
    return new

