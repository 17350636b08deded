"""`storelink hq adopt CODE --store STORE --config FILE`: adopt the box waiting with CODE."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from hq.config import HqConfigError, load_hq_config, load_or_create_key
from hq.pairing import PairingError
from hq.pairing.book import HqIdentity, PairingBook
from hq.store.backends import open_store
from sync.journal.record import public_bytes

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `adopt` under `storelink hq`."""
    p = sub.add_parser("adopt", help="adopt the box whose pairing slip shows CODE into a store "
                                     "(signs its certificate, pins its journal key)")
    p.add_argument("code", help="the pairing code on the slip, e.g. 7KQ2-M9XD")
    p.add_argument("--store", required=True, help="the store code, e.g. CQ-JB-001")
    p.add_argument("--config", required=True, help="HQ configuration (TOML) with [pairing]")
    p.add_argument("--replaces", help="the id of the broken box this one replaces: its journal "
                                      "continues that box's history")


def adopt(args: argparse.Namespace) -> int:
    """Adopt; print the adoption as JSON. 2 with `error: field: reason` when refused."""
    try:
        cfg = load_hq_config(Path(args.config))
        key = load_or_create_key(cfg.key_file)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    if cfg.pairing is None:
        print("error: pairing: HQ's configuration has no [pairing] table", file=sys.stderr)
        return EXIT_USAGE
    book = PairingBook(cfg.pairing, HqIdentity(public_bytes(key), cfg.cosigner))
    store = open_store(cfg.db) if args.replaces is not None else None
    try:
        a = book.adopt(args.code, args.store, "cli", int(time.time() * 1000), args.replaces,
                       None if store is None else store.journal_head)
    except PairingError as e:
        print(f"error: {e.field}: {e.reason}", file=sys.stderr)
        return EXIT_FAIL if e.status >= 500 else EXIT_USAGE
    finally:
        book.close()
        if store is not None:
            store.close()
    print(json.dumps(asdict(a), ensure_ascii=False))
    return EXIT_OK
