"""`storelink hq catalog import FILE --config CONFIG`: load a catalog JSON file into HQ."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from hq.catalog.products import CatalogError, parse_products
from hq.config import HqConfigError, load_hq_config
from hq.store import StoreError
from hq.store.backends import open_store

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `catalog import` under `storelink hq`."""
    p = sub.add_parser("catalog", help="HQ's product catalog (costs for the reports' margin)")
    inner = p.add_subparsers(dest="catalog_action", required=True)
    imp = inner.add_parser("import", help="insert or replace the products of a JSON file (an "
                           "array of {sku, name, price, cost, …}; examples/data/catalog.json)")
    imp.add_argument("file", help="the catalog JSON file")
    imp.add_argument("--config", required=True, help="HQ configuration (TOML)")


def import_file(args: argparse.Namespace) -> int:
    """Import; print how many products were written. 2 with `error: field: reason` (the
    dotted path in the file) when refused, nothing written."""
    try:
        cfg = load_hq_config(Path(args.config))
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    try:
        text = Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        print(f"error: {args.file}: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        products = parse_products(json.loads(text), "")
    except ValueError as e:
        print(f"error: {args.file}: not JSON: {e}", file=sys.stderr)
        return EXIT_USAGE
    except CatalogError as e:
        print(f"error: {e.field}: {e.reason}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = open_store(cfg.db)
        try:
            n = store.catalog_put(products, int(time.time() * 1000))
        finally:
            store.close()
    except StoreError as e:
        print(f"error: hq.db: {e}", file=sys.stderr)
        return EXIT_FAIL
    print(f"已导入 {n} 个商品 ({n} products imported)")
    return EXIT_OK
