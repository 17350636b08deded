"""HQ's pairing book (an SQLite file beside the CA): requests by code hash, adoptions, wrong
guesses. Blocking: call it from a thread. Codes and request secrets are kept only as hashes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import msgspec
from cryptography import x509

from hq.config import BoxEntry, PairingConfig
from hq.pairing import PairingError
from hq.pki import PkiError
from hq.pki.ca_dir import CaDir
from hq.pki.certificates import csr_public_key
from hq.store import JournalHead
from sync.pairing_code import code_hash, normalize
from sync.protocol import ProtocolError
from sync.protocol.pairing import Broker, PairingAnswer, PairingRequest, Replaced
from sync.protocol.topics import BOX_ID

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
  request_hash TEXT PRIMARY KEY, code_hash TEXT NOT NULL, box TEXT NOT NULL, name TEXT NOT NULL,
  csr TEXT NOT NULL, journal_pubkey TEXT NOT NULL, log TEXT NOT NULL, created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL, state TEXT NOT NULL, answer TEXT);
CREATE INDEX IF NOT EXISTS requests_code ON requests (code_hash);
CREATE TABLE IF NOT EXISTS adopted (
  box TEXT PRIMARY KEY, store TEXT NOT NULL, journal_pubkey TEXT NOT NULL, log TEXT NOT NULL,
  serial TEXT NOT NULL, adopted_ms INTEGER NOT NULL, by TEXT NOT NULL, name TEXT NOT NULL,
  replaces TEXT);
CREATE TABLE IF NOT EXISTS failures (at_ms INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class Adopted:
    """One adoption as HQ recorded it (the audit trail of pairing)."""

    box: str
    store: str
    journal_pubkey: str
    log: str
    serial: str
    adopted_ms: int
    by: str
    name: str
    replaces: str | None = None
    """The JSON of `Replaced` (the old box, its log and HQ's held head) for a replacement."""


@dataclass(frozen=True)
class HqIdentity:
    """What an adopted box is told about HQ besides its certificate."""

    pubkey: bytes
    cosigner: str


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PairingBook:
    """The book at `cfg.db`; adoptions signed by the CA in `cfg.ca_dir`."""

    def __init__(self, cfg: PairingConfig, hq: HqIdentity) -> None:
        self.cfg = cfg
        self.hq = hq
        self.ca = CaDir(cfg.ca_dir)
        cfg.db.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(cfg.db, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def submit(self, req: PairingRequest, now_ms: int) -> PairingAnswer:
        """File the box's request, or answer it again when the box polls (same secret)."""
        key = _hash(req.request)
        try:
            csr_public_key(req.csr.encode())
        except PkiError as e:
            raise PairingError(400, e.field, e.reason) from None
        with self._lock:
            row = self._db.execute("SELECT box, code_hash, state, expires_ms, answer FROM "
                                   "requests WHERE request_hash = ?", (key,)).fetchone()
            if row is not None:
                if (row[0], row[1]) != (req.box, req.code_hash):
                    raise PairingError(409, "request", "already used for another code or box")
                return self._answer(row[2], row[3], row[4], now_ms)
            # Anyone may ask (a box has no credential yet): bound what strangers can store.
            self._db.execute("DELETE FROM requests WHERE state = 'pending' AND expires_ms < ?",
                             (now_ms - 7 * 86_400_000,))
            (waiting,) = self._db.execute("SELECT COUNT(*) FROM requests WHERE state = 'pending' "
                                          "AND expires_ms > ?", (now_ms,)).fetchone()
            if waiting >= self.cfg.max_pending:
                raise PairingError(429, "request", f"{waiting} boxes wait already; adopt them "
                                                   "or let their codes expire first")
            if self._db.execute("SELECT 1 FROM requests WHERE code_hash = ? AND state = 'pending'"
                                " AND expires_ms > ?", (req.code_hash, now_ms)).fetchone():
                raise PairingError(409, "code_hash", "another box waits with this code; make "
                                                     "a new one")
            if self.adoption(req.box) is not None:
                raise PairingError(409, "box", f"{req.box} is adopted already; revoke it "
                                               "before pairing a box under that id again")
            expires = now_ms + self.cfg.code_ttl_s * 1000
            self._db.execute(
                "INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL)",
                (key, req.code_hash, req.box, req.name, req.csr, req.journal_pubkey, req.log,
                 now_ms, expires))
            return PairingAnswer(state="pending", expires_ms=expires)

    def adoption_request_unknown(self, req: PairingRequest) -> bool:
        """True if HQ has not seen this request yet (its first POST)."""
        return self._db.execute("SELECT 1 FROM requests WHERE request_hash = ?",
                                (_hash(req.request),)).fetchone() is None

    def _answer(self, state: str, expires_ms: int, answer: str | None,
                now_ms: int) -> PairingAnswer:
        if state == "adopted" and answer is not None:
            return msgspec.json.decode(answer, type=PairingAnswer)
        return PairingAnswer(state="expired" if now_ms >= expires_ms else "pending",
                             expires_ms=expires_ms)

    def adopt(self, code_text: object, store: object, by: str, now_ms: int,
              replaces: object = None, held: Callable[[str], JournalHead | None] | None = None
              ) -> Adopted:
        """Adopt the box waiting with this code into `store`: sign its CSR (CN = box id), pin
        its journal key and log, and keep the answer for its next poll. A wrong code counts
        towards the limit of wrong guesses (429 once reached). With `replaces`, the box
        continues that box's history: `held(box)` is how far HQ holds its journal."""
        if not isinstance(store, str) or not BOX_ID.fullmatch(store):
            raise PairingError(400, "store", "must be a store code of 1-64 of A-Z a-z 0-9 _ -")
        old = None if replaces is None else self._replaced(replaces, store, held)
        with self._lock:
            since = now_ms - self.cfg.failure_window_s * 1000
            self._db.execute("DELETE FROM failures WHERE at_ms < ?", (since,))
            (failed,) = self._db.execute("SELECT COUNT(*) FROM failures").fetchone()
            if failed >= self.cfg.max_failures:
                raise PairingError(429, "code", f"too many wrong codes; wait "
                                   f"{self.cfg.failure_window_s // 60} minutes")
            try:
                code = normalize(code_text)
            except ProtocolError as e:
                raise PairingError(400, e.field, e.reason) from None
            row = self._db.execute(
                "SELECT request_hash, box, name, csr, journal_pubkey, log FROM requests "
                "WHERE code_hash = ? AND state = 'pending' AND expires_ms > ?",
                (code_hash(code), now_ms)).fetchone()
            if row is None:
                self._db.execute("INSERT INTO failures VALUES (?)", (now_ms,))
                raise PairingError(404, "code", "no box waits with this code (wrong, used or "
                                                "expired)")
            request_hash, box, name, csr, pubkey, log = row
            if self.adoption(box) is not None:
                raise PairingError(409, "box", f"{box} is adopted already")
            now = datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC)
            try:
                cert_pem = self.ca.sign(csr.encode(), box, now, self.cfg.cert_days)
            except PkiError as e:
                raise PairingError(400 if e.field in ("csr", "box") else 500, e.field,
                                   e.reason) from None
            serial = f"{x509.load_pem_x509_certificate(cert_pem).serial_number:x}"
            answer = PairingAnswer(
                state="adopted", expires_ms=now_ms, box=box, store=store,
                cert=cert_pem.decode(), ca=self.ca.cert_file.read_text(encoding="ascii"),
                broker=Broker(host=self.cfg.broker_host, port=self.cfg.broker_port),
                hq_pubkey=base64.b64encode(self.hq.pubkey).decode(),
                hq_cosigner=self.hq.cosigner, replaces=old)
            wire = msgspec.json.encode(answer).decode()
            if old is not None and old.box == box:
                raise PairingError(400, "replaces", "a box cannot replace itself")
            old_json = None if old is None else msgspec.json.encode(old).decode()
            adopted = Adopted(box, store, pubkey, log, serial, now_ms, by, name, old_json)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("UPDATE requests SET state = 'adopted', answer = ?, csr = '' "
                                 "WHERE request_hash = ?", (wire, request_hash))
                self._db.execute("INSERT INTO adopted VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (box, store, pubkey, log, serial, now_ms, by, name, old_json))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return adopted

    def _replaced(self, replaces: object, store: str,
                  held: Callable[[str], JournalHead | None] | None) -> Replaced:
        if not isinstance(replaces, str) or not BOX_ID.fullmatch(replaces):
            raise PairingError(400, "replaces", "must be the id of the box being replaced")
        head = held(replaces) if held is not None else None
        if head is None:
            raise PairingError(404, "replaces", f"HQ holds no journal of {replaces}")
        was = self.adoption(replaces)
        if was is not None and was.store != store:
            raise PairingError(409, "replaces", f"{replaces} belongs to store {was.store}")
        return Replaced(box=replaces, log=head.log, size=head.size, head=head.head.hex())

    def history(self, store: str) -> list[Adopted]:
        """The boxes adopted into `store`, oldest first (a replacement after the box it
        replaces): one store history across logs."""
        return [Adopted(*r) for r in self._db.execute(
            "SELECT * FROM adopted WHERE store = ? ORDER BY adopted_ms, box", (store,))]

    def adoption(self, box: str) -> Adopted | None:
        """The adoption of `box`, if any."""
        row = self._db.execute("SELECT * FROM adopted WHERE box = ?", (box,)).fetchone()
        return None if row is None else Adopted(*row)

    def adoptions(self) -> list[Adopted]:
        """Every adoption, oldest first."""
        return [Adopted(*r) for r in self._db.execute(
            "SELECT * FROM adopted ORDER BY adopted_ms, box").fetchall()]

    def pending(self, now_ms: int) -> int:
        """How many boxes wait with a live code."""
        (n,) = self._db.execute("SELECT COUNT(*) FROM requests WHERE state = 'pending' AND "
                                "expires_ms > ?", (now_ms,)).fetchone()
        return int(n)


class KnownBoxes(Mapping[str, BoxEntry]):
    """The configured boxes, then the adopted ones (journal key and log pinned at adoption)."""

    def __init__(self, configured: Mapping[str, BoxEntry], book: PairingBook | None) -> None:
        self.configured = configured
        self.book = book

    def __getitem__(self, box: str) -> BoxEntry:
        if box in self.configured:
            return self.configured[box]
        a = self.book.adoption(box) if self.book is not None else None
        if a is None:
            raise KeyError(box)
        return BoxEntry(a.box, (bytes.fromhex(a.journal_pubkey),), a.log)

    def __iter__(self) -> Iterator[str]:
        yield from self.configured
        if self.book is not None:
            yield from (a.box for a in self.book.adoptions() if a.box not in self.configured)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def open_book(cfg: PairingConfig | None, hq: HqIdentity) -> PairingBook | None:
    """The pairing book when `[pairing]` is configured."""
    return None if cfg is None else PairingBook(cfg, hq)


