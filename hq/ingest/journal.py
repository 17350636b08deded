"""Journal ingest: verify each box's batches incrementally, store them, answer with countersigned
acknowledgements, and refuse — with an alarm carrying both versions — anything that conflicts
with what HQ already holds (docs/protocol.md §Journal upload).

Blocking (SQLite, Ed25519): run `ingest` in a worker thread, one batch per box at a time.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hq import HqError
from hq.config import BoxEntry
from hq.store import HqStore, StoredEntry
from sync.journal import RecordError
from sync.journal.canonical import canonical
from sync.journal.checkpoint import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    SignedCheckpoint,
    cosign,
    note_key_hash,
)
from sync.journal.record import public_bytes, record_hash, record_statement, verify_sig
from sync.journal.verify import Precheck, Verifier
from sync.protocol.messages import AckStatus, JournalAck, JournalBatch

log = logging.getLogger(__name__)
MAX_VERIFIERS = 256
WORKERS = max(2, min(8, os.cpu_count() or 2))
PARALLEL_MIN = 64
_POOL = ThreadPoolExecutor(WORKERS, thread_name_prefix="hq-verify")


def wall_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class Alarm:
    """A refusal worth a person's attention, with self-contained evidence."""

    kind: str
    seq: int
    reason: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    """The acknowledgement to send, the alarm raised (if any), and how many new records were
    verified and stored."""

    ack: JournalAck
    alarm: Alarm | None = None
    verified: int = 0
    stored: int = 0


@dataclass(frozen=True)
class _Presented:
    record: dict[str, Any]
    raw: bytes
    hash: bytes
    sig: bytes

    def line(self) -> str:
        return (f'{{"hash":"{self.hash.hex()}","record":{self.raw.decode("utf-8")},'
                f'"sig":"{self.sig.hex()}"}}')


def _presented(obj: Mapping[str, object], where: str) -> _Presented:
    if set(obj) != {"hash", "record", "sig"} or not isinstance(obj["record"], dict):
        raise RecordError(where, 'must be {"hash", "record", "sig"} with a record object')
    raw = canonical(obj["record"])
    out: list[bytes] = []
    for name, size in (("hash", 32), ("sig", 64)):
        v = obj[name]
        if not isinstance(v, str) or len(v) != 2 * size or v != v.lower():
            raise RecordError(f"{where}.{name}", f"must be {2 * size} lowercase hex digits")
        try:
            out.append(bytes.fromhex(v))
        except ValueError:
            raise RecordError(f"{where}.{name}", "must be hex") from None
    return _Presented(obj["record"], raw, out[0], out[1])


def _precheck(p: _Presented, key: Ed25519PublicKey, raw_key: bytes) -> Precheck | None:
    try:
        h = record_hash(p.raw)
        return Precheck(True, h, verify_sig(key, p.sig, record_statement(p.record, h)), raw_key)
    except (KeyError, TypeError, ValueError, RecordError):
        return None  # malformed: the verifier says precisely why


def _prechecks(v: Verifier, recs: list[_Presented]) -> list[Precheck | None]:
    """Hash and signature of each record under the chain's current key, on several threads
    (the Ed25519 check releases the GIL); the verifier trusts a result only for that key."""
    if v.head is None or len(recs) < PARALLEL_MIN:
        return [None] * len(recs)
    current = v.head.key
    raw_key = v.key_bytes.get(current)
    key = v.keys.get(current)
    if raw_key is None or key is None:
        return [None] * len(recs)
    step = -(-len(recs) // WORKERS)

    def run(chunk: list[_Presented]) -> list[Precheck | None]:
        return [_precheck(p, key, raw_key) if p.record.get("key") == current else None
                for p in chunk]

    parts = _POOL.map(run, [recs[i:i + step] for i in range(0, len(recs), step)])
    return [pre for part in parts for pre in part]


class JournalIngest:
    """HQ as the witness of every box's journal."""

    def __init__(self, store: HqStore, boxes: Mapping[str, BoxEntry], key: Ed25519PrivateKey,
                 cosigner: str, clock: Callable[[], int] = wall_ms) -> None:
        self.store = store
        self.boxes = boxes
        self.key = key
        self.cosigner = cosigner
        self.clock = clock
        pub = public_bytes(key)
        self.cosigners = {(cosigner, note_key_hash(cosigner, ALG_COSIGNATURE_V1, pub).hex()):
                          key.public_key()}
        self._verifiers: OrderedDict[str, Verifier] = OrderedDict()

    def cosign_note(self, log_id: str, size: int, head: bytes, now_ms: int) -> dict[str, Any]:
        """HQ's cosignature of checkpoint (log, size, head), as carried in an ok ack."""
        signed = cosign(SignedCheckpoint(Checkpoint(log_id, size, head), ()), self.cosigner,
                        self.key, now_ms // 1000)
        return {"cosigner": self.cosigner, "note": signed.text()}

    def ingest(self, batch: JournalBatch) -> Outcome:
        """Verify and store what is new in `batch`; the ack says how far HQ now holds."""
        now = self.clock()
        box = batch.box
        entry = self.boxes.get(box)
        held = self.store.journal_head(box)
        size = held.size if held else 0
        cos = held.cosignature if held else None

        def answer(status: str, reason: str = "", alarm: Alarm | None = None,
                   n: int = size, cosig: dict[str, Any] | None = cos,
                   head: bytes | None = held.head if held else None) -> Outcome:
            if alarm is not None and self.store.add_alarm(box, alarm.kind, alarm.seq,
                                                          alarm.reason, alarm.evidence, now):
                log.error("box %s: %s alarm at seq %d: %s", box, alarm.kind, alarm.seq,
                          alarm.reason)
            st: AckStatus = ("ok" if status == "ok" else "resend" if status == "resend"
                             else "refused")
            return Outcome(JournalAck(box, batch.log_id, st, n, now, head.hex() if head else "",
                                      cosig, reason), alarm)

        if entry is None:
            return answer("refused", "unknown box", Alarm("unknown_box", 0, "box is not "
                          "registered at HQ", {"log": batch.log_id}))
        if held is not None and batch.log_id != held.log:
            return answer("refused", "another log", Alarm(
                "fork", 0, f"box presents log {batch.log_id} but HQ holds log {held.log} with "
                f"{held.size} records", {"held_log": held.log, "presented_log": batch.log_id,
                                         "cosignature": cos}))
        try:
            recs = [_presented(r, f"records[{i}]") for i, r in enumerate(batch.records)]
        except RecordError as e:
            return answer("refused", f"malformed: {e}", Alarm("malformed", batch.first, str(e),
                                                              {"first": batch.first}))
        for i, p in enumerate(recs):
            if p.record.get("seq") != batch.first + i:
                return answer("refused", "gap", Alarm(
                    "gap", batch.first + i, f"expected seq {batch.first + i}, found "
                    f"{p.record.get('seq')!r}: records are missing or out of order",
                    {"presented": p.line()}))
        if batch.first > size:
            return answer("resend", f"HQ holds {size} records")
        overlap = recs[:max(0, size - batch.first)]
        if overlap:
            stored = self.store.journal_entries(box, batch.first, batch.first + len(overlap))
            for s, p in zip(stored, overlap, strict=True):
                if s.raw != p.raw or s.hash != record_hash(p.raw):
                    return answer("refused", f"record {s.seq} conflicts with HQ's countersigned "
                                  "copy", Alarm(
                                      "fork", s.seq, f"record {s.seq} differs from the one HQ "
                                      f"holds and countersigned (size {size})",
                                      {"held": s.export_line().rstrip("\n"),
                                       "presented": p.line(), "cosignature": cos}))
        new = recs[len(overlap):]
        if not new:
            return answer("ok")
        v = self._verifier(box, entry, size, held.head if held else b"")
        pres = _prechecks(v, new)
        accepted: list[StoredEntry] = []
        alarm: Alarm | None = None
        for p, pre in zip(new, pres, strict=True):
            f = v.feed_record(p.record, p.raw, p.sig, p.hash, pre)
            failed = (f.seq, f.code, f.reason) if f is not None else None
            if (failed is None and p.record["seq"] == 0 and entry.pubkeys
                    and bytes.fromhex(p.record["body"]["pubkey"]) not in entry.pubkeys):
                failed = (0, "key", "the genesis key is not registered for this box")
            if failed is not None:
                alarm = self._failure_alarm(box, *failed, p, accepted, cos)
                self._verifiers.pop(box, None)
                break
            accepted.append(StoredEntry(p.record["seq"], p.raw, p.hash, p.sig))
        if not accepted:
            return answer("refused", alarm.reason if alarm else "", alarm)
        log_id = batch.log_id
        new_size = size + len(accepted)
        cosig = self.cosign_note(log_id, new_size, accepted[-1].hash, now)
        if not self.store.journal_append(box, log_id, size, accepted, cosig, now):
            self._verifiers.pop(box, None)  # another worker stored first; start over from it
            again = self.store.journal_head(box)
            return Outcome(JournalAck(box, log_id, "resend", again.size if again else 0, now,
                                      again.head.hex() if again else "",
                                      again.cosignature if again else None),
                           verified=len(accepted))
        status = "refused" if alarm else "ok"
        done = answer(status, alarm.reason if alarm else "", alarm, new_size, cosig,
                      accepted[-1].hash)
        return replace(done, verified=len(accepted), stored=len(accepted))

    def _failure_alarm(self, box: str, seq: int, code: str, reason: str, p: _Presented,
                       accepted: list[StoredEntry], cos: dict[str, Any] | None) -> Alarm:
        kind = {"prev": "fork", "seq": "gap", "key": "key", "log": "fork"}.get(code, "invalid")
        evidence: dict[str, Any] = {"code": code, "presented": p.line(), "cosignature": cos}
        if code == "prev" and seq > 0:
            before = accepted[-1] if accepted and accepted[-1].seq == seq - 1 else next(
                iter(self.store.journal_entries(box, seq - 1, seq)), None)
            if before is not None:
                evidence["held_previous"] = before.export_line().rstrip("\n")
        return Alarm(kind, seq, reason, evidence)

    def _verifier(self, box: str, entry: BoxEntry, size: int, head: bytes) -> Verifier:
        """The box's verifier advanced to exactly the stored chain (`size` records ending in
        `head`): the cached one only if it agrees with the store, else rebuilt from it. The
        cache may hold records a failed append never stored (another worker then stored other
        ones): the store, never the cache, is the truth."""
        v = self._verifiers.pop(box, None)
        if v is not None and v.failure is None and v.size <= size:
            try:
                self._advance(box, v, size)
            except HqError:
                v = None
            if v is not None and size and (v.head is None or v.head.hash != head):
                v = None
        else:
            v = None
        if v is None:
            v = Verifier(log=entry.log, trusted=entry.pubkeys, cosigners=self.cosigners)
            self._advance(box, v, size)
        self._verifiers[box] = v
        while len(self._verifiers) > MAX_VERIFIERS:
            self._verifiers.popitem(last=False)
        return v

    def _advance(self, box: str, v: Verifier, size: int) -> None:
        """Feed `v` the stored records it lacks up to `size`; HqError if they do not follow."""
        while v.size < size:
            # What HQ stored it verified before: replay it without checking signatures again.
            for s in self.store.journal_entries(box, v.size, min(size, v.size + 5000)):
                if s.seq == 0:
                    key = bytes.fromhex(json.loads(s.raw)["body"]["pubkey"])
                else:
                    assert v.head is not None
                    key = v.key_bytes[v.head.key]
                f = v.feed(s.raw, s.sig, s.hash, Precheck(True, s.hash, True, key))
                if f is not None:
                    raise HqError(f"box {box}: HQ's own stored journal fails verification: {f}")
