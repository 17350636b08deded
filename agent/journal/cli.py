"""`storelink journal …`: verify, export, show, head, pubkey, checkpoint, check-receipt."""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from agent import AgentError
from agent.journal.keys import load_key
from agent.journal.rotate_cli import add_rotate_command
from agent.journal.sqlite_ledger import read_rows
from sync.journal import RecordError
from sync.journal.canonical import parse_canonical_fast
from sync.journal.checkpoint import cosigner_keys, origin, parse_note, parse_vkey, vkey
from sync.journal.parallel import Item, verify_source
from sync.journal.receipt_qr import from_entry, parse_receipt, verify_receipt
from sync.journal.record import Entry, key_id, parse_export_line, public_bytes, record_hash
from sync.journal.schema import check_envelope, validate_body, validate_record
from sync.journal.verify import Verifier

VALID, INVALID, UNUSABLE = 0, 1, 2
_SQLITE_MAGIC = b"SQLite format 3\x00"
_AUTO_PARALLEL_BYTES = 14_000_000
_LOG = re.compile(r"[0-9a-f]{32}")


class _UnusableError(Exception):
    """Input the command cannot work with (exit 2)."""


def _fen(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == _SQLITE_MAGIC


def _source(path: Path) -> Callable[[], Iterable[Item]]:
    """Entries of a journal database or a JSON Lines export (an empty file is an export
    without entries)."""
    if not path.is_file():
        raise _UnusableError(f"{path}: no such file")
    if _is_sqlite(path):
        return lambda: read_rows(path)
    with path.open("rb") as f:
        first = f.read(1)
    if first not in (b"", b"{", b"\n", b"\r", b" ", b"\t"):
        raise _UnusableError(f"{path}: neither a journal database nor a JSON Lines export")

    def lines() -> Iterable[Item]:
        # Every line as it is, LF included (§8: blank lines and CRs make it non-canonical);
        # bytes that are not UTF-8 reach the verifier, which calls them non-canonical.
        with path.open("rb") as f:
            yield from (line.decode("utf-8", "surrogateescape") for line in f)

    return lines


def _entries(path: Path) -> Iterable[Entry]:
    for item in _source(path)():
        if isinstance(item, str):
            yield parse_export_line(item)[1]
        else:
            raw, sig, stored = item
            yield Entry(raw, stored or record_hash(raw), sig)


def _read_arg(value: str) -> str:
    """A key given inline, or the contents of the file it names."""
    p = Path(value)
    if len(value) < 4096 and p.is_file():
        return p.read_text(encoding="utf-8")
    return value


def _pubkeys(values: Sequence[str]) -> list[bytes]:
    """Raw Ed25519 public keys from hex, `journal pubkey` JSON, a vkey, or PEM (inline or file)."""
    out = []
    for value in values:
        text = _read_arg(value).strip()
        try:
            if text.startswith("-----BEGIN"):
                pem = load_pem_public_key(text.encode())
                if not isinstance(pem, Ed25519PublicKey):
                    raise _UnusableError(f"{value}: not an Ed25519 key")
                out.append(public_bytes(pem))
            elif text.startswith("{"):
                out.append(bytes.fromhex(json.loads(text)["pubkey"]))
            elif "+" in text:
                out.append(public_bytes(parse_vkey(text)[2]))
            else:
                out.append(bytes.fromhex(text))
        except (ValueError, KeyError, TypeError, RecordError) as e:
            raise _UnusableError(f"--pubkey {value}: not a public key ({e})") from None
        if len(out[-1]) != 32:
            raise _UnusableError(f"--pubkey {value}: an Ed25519 public key has 32 bytes")
    return out


def _cosigners(values: Sequence[str]) -> dict[tuple[str, str], Ed25519PublicKey]:
    try:
        return cosigner_keys(_read_arg(v) for v in values)
    except RecordError as e:
        raise _UnusableError(f"--hq-pubkey: {e}") from None


def cmd_verify(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check a whole journal (and a checkpoint); print the first bad seq and why."""
    out = out or sys.stdout
    path = Path(args.db)
    source = _source(path)
    cosigners = _cosigners(args.hq_pubkey)
    checkpoint = None
    if args.checkpoint:
        try:
            checkpoint = parse_note(Path(args.checkpoint).read_bytes().decode("utf-8"))
        except (OSError, RecordError) as e:
            raise _UnusableError(f"--checkpoint: {e}") from None
    jobs = args.jobs
    if jobs == 0:  # worker start-up pays off from roughly 20,000 records (~700 bytes each)
        jobs = (os.cpu_count() or 1) if path.stat().st_size >= _AUTO_PARALLEL_BYTES else 1
    receipts = []
    for text in args.receipt:
        try:
            receipts.append(parse_receipt(text))
        except RecordError as e:
            raise _UnusableError(f"--receipt: not a journal receipt code: {e}") from None
    if args.log is not None and _LOG.fullmatch(args.log) is None:
        raise _UnusableError("--log: a log id is 32 lowercase hex digits")
    v = Verifier(log=args.log, trusted=_pubkeys(args.pubkey), cosigners=cosigners)
    verify_source(source, v, processes=jobs)
    failure = v.finish()
    if failure is None and checkpoint is not None:
        try:
            failure = v.check_checkpoint(
                checkpoint, {name: pub for (name, _), pub in cosigners.items()})
        except RecordError as e:
            raise _UnusableError(f"--checkpoint: {e}") from None
    for code in receipts:
        if failure is not None:
            break
        try:
            failure = v.check_receipt(code)
        except RecordError as e:
            raise _UnusableError(f"--receipt: {e}") from None
    if failure is not None:
        print(f"invalid: seq {failure.seq}: {failure.code}: {failure.reason}", file=out)
        return INVALID
    head = v.head
    assert head is not None
    print(f"valid: {head.size} records of log {head.log}", file=out)
    print(f"head: seq {head.size - 1} hash {head.hash.hex()} at {_when(head.time)}", file=out)
    print(f"totals: net {_fen(head.totals.net)} absolute {_fen(head.totals.absolute)} yuan; "
          + ", ".join(f"{m} {_fen(a)}" for m, a in sorted(head.totals.methods.items())), file=out)
    print("keys: " + ", ".join(v.keys) + f" (current {head.key})", file=out)
    if checkpoint is not None:
        print(f"checkpoint: size {checkpoint.checkpoint.size} is consistent", file=out)
    for code in receipts:
        print(f"receipt: record {code.seq} is in the journal as printed", file=out)
    if not cosigners:
        print("note: cosign records were not checked against HQ's key (no --hq-pubkey)", file=out)
    return VALID


def cmd_export(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Write the journal as JSON Lines (docs/journal.md §8)."""
    out = out or sys.stdout
    if not args.output:
        for entry in _entries(Path(args.db)):
            out.write(entry.export_line())
        return VALID
    with Path(args.output).open("w", encoding="utf-8") as target:
        for entry in _entries(Path(args.db)):
            target.write(entry.export_line())
    return VALID


def _record_at(path: Path, seq: int) -> tuple[bytes, bytes, bytes | None]:
    for row in read_rows(path, seq):
        return row
    raise _UnusableError(f"{path}: no record {seq}")


def cmd_show(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print one record readably (Chinese as is), with its hash, signature and receipt code;
    a record that is not canonical or not well formed gets its verdict instead (exit 1)."""
    out = out or sys.stdout
    raw, sig, stored = _record_at(Path(args.db), args.seq)
    entry = Entry(raw, stored or record_hash(raw), sig)
    try:
        record = parse_canonical_fast(raw)
    except RecordError as e:
        print(raw.decode("utf-8", "replace"), file=out)
        print(f"invalid: seq {args.seq}: canonical: {e.field}: {e.reason}", file=out)
        return INVALID
    print(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True), file=out)
    try:
        check_envelope(record)
    except RecordError as e:
        print(f"invalid: seq {args.seq}: malformed: {e.field}: {e.reason}", file=out)
        return INVALID
    print(f"time: {_when(record['time'])}", file=out)
    print(f"hash: {entry.hash.hex()}", file=out)
    print(f"sig: {entry.sig.hex()}", file=out)
    print(f"receipt: {from_entry(entry).text()}", file=out)
    return VALID


def cmd_head(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the last record's position, hash, time and totals as JSON."""
    out = out or sys.stdout
    last = None
    for entry in _entries(Path(args.db)):
        last = entry
    if last is None:
        raise _UnusableError(f"{args.db}: the journal is empty")
    r = last.record()
    validate_record(r)
    key = r["body"]["new_key"] if r["type"] == "key_rotate" else r["key"]
    print(json.dumps({"log": r["log"], "size": r["seq"] + 1, "head": last.hash.hex(),
                      "time": r["time"], "time_utc": _when(r["time"]), "key": key,
                      "totals": r["totals"]}, ensure_ascii=False, indent=1), file=out)
    return VALID


def cmd_pubkey(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the public key(s) and key id(s) of a journal (or of a key file) as JSON."""
    out = out or sys.stdout
    if args.key:
        pub = public_bytes(load_key(Path(args.key)))
        print(json.dumps({"key_id": key_id(pub), "pubkey": pub.hex()}, indent=1), file=out)
        return VALID
    if not args.db:
        raise _UnusableError("give a journal database or --key FILE")
    keys, log, current = [], "", ""
    for entry in _entries(Path(args.db)):
        if b'"type":"genesis"' not in entry.raw and b'"type":"key_rotate"' not in entry.raw:
            continue
        r = entry.record()
        check_envelope(r)
        if r["type"] not in ("genesis", "key_rotate"):
            continue
        validate_body(r["type"], r["body"], r["seq"])
        log = r["log"]
        pub = bytes.fromhex(r["body"]["pubkey" if r["type"] == "genesis" else "new_pubkey"])
        current = key_id(pub)
        keys.append({"key_id": current, "pubkey": pub.hex(), "since_seq": r["seq"],
                     "vkey": vkey(origin(log), pub)})
    if not keys:
        raise _UnusableError(f"{args.db}: no genesis record")
    print(json.dumps({"log": log, "current": current, "key_id": current,
                      "pubkey": keys[-1]["pubkey"], "keys": keys}, indent=1), file=out)
    return VALID


def cmd_checkpoint(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print a stored checkpoint note (the latest, or the one of --size), cosigned if it was."""
    out = out or sys.stdout
    path = Path(args.db)
    if not path.is_file():
        raise _UnusableError(f"{path}: no such file")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        sql = "SELECT note, cosigned FROM checkpoints "
        row = conn.execute(sql + ("WHERE size = ?" if args.size is not None
                                  else "ORDER BY size DESC LIMIT 1"),
                           (args.size,) if args.size is not None else ()).fetchone()
    except sqlite3.DatabaseError as e:
        raise _UnusableError(f"{path}: {e}") from None
    finally:
        conn.close()
    if row is None:
        raise _UnusableError(f"{path}: no such checkpoint")
    out.write(row[1] or row[0])
    return VALID


def cmd_check_receipt(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Check one printed receipt's QR text offline against the box's public key(s)."""
    out = out or sys.stdout
    try:
        code = parse_receipt(args.qr)
    except RecordError as e:
        raise _UnusableError(f"not a journal receipt code: {e}") from None
    keys = [Ed25519PublicKey.from_public_bytes(k) for k in _pubkeys(args.pubkey)]
    facts = (f"{code.type} seq {code.seq} of log {code.log} at {_when(code.time)}, "
             f"amount {_fen(code.amount)} yuan, key {code.key}")
    if verify_receipt(code, keys):
        print(f"valid: {facts}", file=out)
        return VALID
    print(f"invalid: the signature does not verify with the given keys ({facts})", file=out)
    return INVALID


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except (_UnusableError, AgentError, OSError, RecordError, UnicodeDecodeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return UNUSABLE

    run.__doc__ = fn.__doc__
    return run


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `journal verify|export|show|head|pubkey|checkpoint|check-receipt|rotate-key`; each
    sets `func`.

    `func(args) -> int` is the exit status: 0 valid/ok, 1 invalid, 2 unusable input.
    """
    journal = subparsers.add_parser("journal", help="the signed journal: verify, export, inspect")
    sub = journal.add_subparsers(dest="journal_command", required=True)
    p = sub.add_parser("verify", help="check links, signatures, seq, totals, time, keys")
    p.add_argument("db", help="journal database or JSON Lines export")
    p.add_argument("--checkpoint", help="a signed checkpoint note to check against")
    p.add_argument("--pubkey", action="append", default=[],
                   help="a trusted box key (hex, vkey, PEM, or `journal pubkey` JSON; or a file)")
    p.add_argument("--hq-pubkey", action="append", default=[],
                   help="HQ's cosigner vkey (name+hash+key, or a file): cosignatures are checked")
    p.add_argument("--jobs", type=int, default=0,
                   help="worker processes (0: all cores for large journals)")
    p.add_argument("--log", help="the log id the journal must have (32 hex digits)")
    p.add_argument("--receipt", action="append", default=[], metavar="QR_TEXT",
                   help="a receipt's QR text: the journal must hold that very record "
                        "(detects a cut-off tail or a rewrite); repeatable")
    p.set_defaults(func=_guard(cmd_verify))
    p = sub.add_parser("export", help="write the journal as JSON Lines")
    p.add_argument("db")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=_guard(cmd_export))
    p = sub.add_parser("show", help="print one record")
    p.add_argument("db")
    p.add_argument("seq", type=int)
    p.set_defaults(func=_guard(cmd_show))
    p = sub.add_parser("head", help="print the last record's seq, hash, time and totals")
    p.add_argument("db")
    p.set_defaults(func=_guard(cmd_head))
    p = sub.add_parser("pubkey", help="print the journal's public key(s) and key id(s)")
    p.add_argument("db", nargs="?")
    p.add_argument("--key", help="read the public key from this private key file instead")
    p.set_defaults(func=_guard(cmd_pubkey))
    p = sub.add_parser("checkpoint", help="print a stored signed checkpoint")
    p.add_argument("db")
    p.add_argument("--size", type=int)
    p.set_defaults(func=_guard(cmd_checkpoint))
    p = sub.add_parser("check-receipt", help="check a receipt's QR text offline")
    p.add_argument("qr", help="the text scanned from the receipt's QR code")
    p.add_argument("--pubkey", action="append", required=True,
                   help="the box's public key (hex, vkey, PEM, JSON; or a file); repeatable")
    p.set_defaults(func=_guard(cmd_check_receipt))
    add_rotate_command(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the journal commands alone: `python -m agent.journal.cli journal verify DB`."""
    parser = argparse.ArgumentParser(prog="storelink")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
