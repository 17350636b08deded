"""Verification across processes: canonical form, hash and signature of each record in workers,
the chain rules in order in the caller (docs/journal.md §9.3)."""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.journal import RecordError
from sync.journal.canonical import parse_canonical_fast
from sync.journal.fastparse import parse_record
from sync.journal.record import key_id, parse_export_line, record_hash, record_statement, verify_sig
from sync.journal.verify import Precheck, Verifier

Row = tuple[bytes, bytes, bytes | None]
"""A stored entry: canonical record bytes, signature, stored hash (None if not stored)."""
Item = Row | str
"""What a source yields: a stored row, or one JSON Lines export line."""

_KEYS: dict[bytes, Ed25519PublicKey] = {}
"""A worker's public keys, loaded once per process."""

# Where a canonical record names a key: the pre-pass parses only the entries holding one (a
# record spelled otherwise fails as non-canonical, and workers only ever speed things up).
_KEY_TYPES = ('"type":"genesis"', '"type":"key_rotate"')
_KEY_TYPES_BYTES = tuple(t.encode("ascii") for t in _KEY_TYPES)


def _names_a_key(item: Item) -> bool:
    if isinstance(item, str):
        return _KEY_TYPES[0] in item or _KEY_TYPES[1] in item
    return _KEY_TYPES_BYTES[0] in item[0] or _KEY_TYPES_BYTES[1] in item[0]


def collect_keys(items: Iterable[Item]) -> dict[str, bytes]:
    """Key id → public key of every genesis and key_rotate record found (a cheap pre-pass)."""
    keys: dict[str, bytes] = {}
    for item in items:
        if not _names_a_key(item):
            continue
        try:
            value = json.loads(item if isinstance(item, str) else item[0])
            record = value["record"] if isinstance(item, str) else value
            body = record["body"]
            pub = bytes.fromhex(body["pubkey" if record["type"] == "genesis" else "new_pubkey"])
            keys[key_id(pub)] = pub
        except (ValueError, KeyError, TypeError, RecordError):
            continue
    return keys


Result = tuple[str | None, bytes, bool, bytes, Row | None]
"""A worker's answer per item: error, hash, signature ok, key used, the row (export lines only)."""


def _public(raw: bytes) -> Ed25519PublicKey:
    pub = _KEYS.get(raw)
    if pub is None:
        pub = _KEYS[raw] = Ed25519PublicKey.from_public_bytes(raw)
    return pub


def _work(task: tuple[dict[str, bytes], list[Item]]) -> list[Result]:
    keys, chunk = task
    out: list[Result] = []
    for item in chunk:
        row: Row | None = None
        try:
            if isinstance(item, str):
                record, entry = parse_export_line(item)
                raw, sig = entry.raw, entry.sig
                row = (raw, sig, entry.hash)
            else:
                raw, sig = item[0], item[1]
                record = parse_record(raw) or parse_canonical_fast(raw)
        except RecordError as e:
            out.append((f"{e.field}: {e.reason}", b"", False, b"", None))
            continue
        h = record_hash(raw)
        used, ok = b"", False
        try:
            used = (bytes.fromhex(record["body"]["pubkey"]) if record["type"] == "genesis"
                    else keys.get(record["key"], b""))
            ok = bool(used) and verify_sig(_public(used), sig, record_statement(record, h))
        except (KeyError, TypeError, ValueError):
            ok = False
        out.append((None, h, ok, used, row))
    return out


def _as_row(item: Item) -> Row:
    if isinstance(item, str):  # export lines always come back from the worker as rows
        raise AssertionError("an export line without its row")
    return item


def verify_source(source: Callable[[], Iterable[Item]], verifier: Verifier, *,
                  processes: int = 1, chunk: int = 2000) -> Verifier:
    """Feed every item of `source()` to `verifier`, using `processes` worker processes if > 1.

    `source` is called twice in parallel mode (a key pre-pass, then the real pass). Workers
    check canonical form, hash and signature; the chain rules run here, in order.
    """
    if processes <= 1:
        for item in source():
            f = (verifier.feed_line(item) if isinstance(item, str)
                 else verifier.feed(item[0], item[1], item[2]))
            if f is not None:
                break
        return verifier
    sent: deque[list[Item]] = deque()
    ctx = multiprocessing.get_context("spawn")
    # The workers start (a new interpreter each) while this process reads the keys.
    with ctx.Pool(processes) as pool:
        keys = collect_keys(source())

        def tasks() -> Iterator[tuple[dict[str, bytes], list[Item]]]:
            it = iter(source())
            while part := list(islice(it, chunk)):
                sent.append(part)
                yield keys, part

        for results in pool.imap(_work, tasks()):
            items = sent.popleft()
            for item, (error, h, ok, used, line_row) in zip(items, results, strict=True):
                if error is not None:
                    verifier.reject("canonical", error)
                    return verifier
                row = line_row if line_row is not None else _as_row(item)
                raw, sig, stored = row
                if verifier.feed(raw, sig, stored, Precheck(True, h, ok, used)) is not None:
                    return verifier
    return verifier
