"""`storelink hq orders import|salesperson --config FILE …`: customer orders from the ERP's files
(joined with the catalog), and which user is which salesperson."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from hq import HqError
from hq.config import HqConfigError, load_hq_config
from hq.orders import OrderError
from hq.orders.model import catalog_index, check_code, join_catalog, parse_customers, parse_order
from hq.people.accounts import PeopleError, check_name
from hq.store import HqStore
from hq.store.backends import open_store
from hq.store.people import AuditEntry

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `orders` with its actions."""
    orders = sub.add_parser("orders", help="customer orders: import from files; map users to "
                                           "salesperson ids")
    actions = orders.add_subparsers(dest="orders_action", required=True)
    imp = actions.add_parser("import", help="import orders.json (and customers, catalog)")
    imp.add_argument("orders", help="orders.json: a JSON array of orders")
    imp.add_argument("--customers", help="customers.json: a JSON array of customers")
    imp.add_argument("--catalog", help="catalog.json: names, units, specs and warehouse "
                                       "locations joined into lines by SKU")
    imp.add_argument("--store", help="the store id of [[stores]] for orders without one")
    sp = actions.add_parser("salesperson", help="user USER acts as the ERP's salesperson ID")
    sp.add_argument("user", help="HQ user name")
    sp.add_argument("salesperson", help="the ERP's salesperson id (e.g. S101)")
    for p in (imp, sp):
        p.add_argument("--config", required=True, help="HQ configuration (TOML)")


def _load(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OrderError(what, f"cannot read {path}: {e}") from None


def import_files(store: HqStore, stores: list[str], orders_file: str,
                 customers_file: str | None, catalog_file: str | None, default_store: str | None,
                 now_ms: int) -> tuple[int, int, int]:
    """Validate everything first, then store customers and orders: (customers, new orders,
    orders already there unchanged); OrderError naming the first problem, nothing stored."""
    customers = (parse_customers({"customers": _load(customers_file, "customers")})
                 if customers_file else [])
    catalog = catalog_index(_load(catalog_file, "catalog")) if catalog_file else {}
    raw = _load(orders_file, "orders")
    if not isinstance(raw, list) or not raw:
        raise OrderError("orders", "must be a non-empty JSON array of orders")
    if default_store is not None and default_store not in stores:
        raise OrderError("store", f"no store {default_store!r} in HQ's [[stores]]")
    known = {c["id"] for c in customers}
    rows = []
    for i, item in enumerate(raw):
        body: object = item
        if isinstance(item, dict):
            with_store = item if default_store is None else {"store": default_store, **item}
            body = join_catalog(with_store, catalog, f"orders[{i}]")
        row = parse_order(body, now_ms, stores, prefix=f"orders[{i}]")
        if row.customer not in known and store.customer(row.customer) is None:
            raise OrderError(f"orders[{i}].customer", f"no customer {row.customer!r} "
                                                      "(give --customers)")
        rows.append(row)
    if customers:
        store.customers_put(customers, now_ms)
    created = same = 0
    for i, row in enumerate(rows):
        stored, new = store.order_add(row)
        if not new and stored.body_hash != row.body_hash:
            raise OrderError(f"orders[{i}].order_no",
                             f"order {row.order_no} exists with different content")
        created += new
        same += not new
    return len(customers), created, same


def main(args: argparse.Namespace) -> int:
    """Carry out one `orders` action; 0 done, 1 failed, 2 bad input."""
    try:
        cfg = load_hq_config(Path(args.config))
        store = open_store(cfg.db)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    except HqError as e:
        print(f"cannot open HQ's database: {e}", file=sys.stderr)
        return EXIT_FAIL
    now = time.time_ns() // 1_000_000
    try:
        if args.orders_action == "salesperson":
            user = check_name(args.user, "user")
            if store.user(user) is None:
                print(f"no user {user!r}", file=sys.stderr)
                return EXIT_FAIL
            salesperson = check_code(args.salesperson, "salesperson")
            store.salesperson_set(user, salesperson)
            store.audit_add(AuditEntry(now, "cli", "orders salesperson", user, "local", True,
                                       {"salesperson": salesperson}))
            print(f"{user} = {salesperson}")
            return EXIT_OK
        counts = import_files(store, list(cfg.stores), args.orders, args.customers,
                              args.catalog, args.store, now)
        store.audit_add(AuditEntry(now, "cli", "orders import", args.orders, "local", True,
                                   {"customers": counts[0], "created": counts[1],
                                    "unchanged": counts[2]}))
        print(f"customers {counts[0]}, new orders {counts[1]}, unchanged {counts[2]}")
        return EXIT_OK
    except (OrderError, PeopleError) as e:
        print(f"{e.field}: {e.reason}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
