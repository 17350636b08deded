"""Customers and orders as the ERP sends them: validated once (pure), errors naming the field by
dotted path (`lines[2].qty`). A customer is always its id: same-name customers exist."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, TypeVar

from msgspec import UNSET, Meta, UnsetType, to_builtins

from hq.orders import OrderError
from hq.store.orders import OrderRow
from validation import Schema, ValidationError
from validation.decode import convert

CODE = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,39}$"
_CODE_REASON = "must be 1-40 characters of A-Z a-z 0-9 . _ : - (starting with a letter or digit)"
Code = Annotated[str, Meta(pattern=CODE, extra={"reason": _CODE_REASON})]
Name = Annotated[str, Meta(min_length=1, max_length=100)]
Short = Annotated[str, Meta(min_length=1, max_length=40)]
MAX_LINES = 500
MAX_CUSTOMERS = 10_000
MAX_QTY = 1_000_000
MAX_FEN = 10**12
T = TypeVar("T")


class Customer(Schema, frozen=True, kw_only=True):
    """One customer of PUT /v1/customers (customers.json's shape)."""

    id: Code
    name: Name
    type: Short | UnsetType = UNSET
    phone: Annotated[str, Meta(min_length=1, max_length=32)] | UnsetType = UNSET
    address: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    sites: Annotated[list[Name], Meta(max_length=100)] | UnsetType = UNSET


class Customers(Schema, frozen=True, kw_only=True):
    """PUT /v1/customers: customers created or replaced by id."""

    customers: Annotated[list[Customer], Meta(min_length=1, max_length=MAX_CUSTOMERS)]


class Line(Schema, frozen=True, kw_only=True):
    """One order line: amounts in fen, `amount` = `qty` × `unit_price`."""

    sku: Code
    name: Name
    qty: Annotated[int, Meta(ge=1, le=MAX_QTY)]
    unit: Annotated[str, Meta(min_length=1, max_length=8)]
    unit_price: Annotated[int, Meta(ge=0, le=MAX_FEN)]
    amount: Annotated[int, Meta(ge=0, le=MAX_FEN)]
    spec: Annotated[str, Meta(min_length=1, max_length=60)] | UnsetType = UNSET
    location: Annotated[str, Meta(min_length=1, max_length=20)] | UnsetType = UNSET


class Order(Schema, frozen=True, kw_only=True):
    """POST /v1/orders: one customer order, idempotent by `order_no`."""

    order_no: Code
    customer: Code
    salesperson: Code
    lines: Annotated[list[Line], Meta(min_length=1, max_length=MAX_LINES)]
    store: Code | UnsetType = UNSET
    route: Short | UnsetType = UNSET
    time: Annotated[str, Meta(min_length=1, max_length=40)] | UnsetType = UNSET
    delivery_address: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    note: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET


def convert_body(obj: object, tp: type[T], prefix: str = "") -> T:
    """`obj` as a `tp`; OrderError naming the first bad field (under `prefix`)."""
    try:
        return convert(obj, tp, prefix=prefix, whole=prefix or "body")
    except ValidationError as e:
        raise OrderError(e.path, e.reason) from None


def check_code(value: object, field: str) -> str:
    """An id (customer, salesperson, order number) or OrderError naming `field`."""
    if not isinstance(value, str) or not re.fullmatch(CODE, value):
        raise OrderError(field, _CODE_REASON)
    return value


def body_hash(body: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an order body (a repeat is recognised by it)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def parse_customers(body: object) -> list[dict[str, Any]]:
    """`{"customers": [...]}` validated; each customer as a plain object. Ids are unique."""
    found = convert_body(body, Customers)
    seen: set[str] = set()
    for i, c in enumerate(found.customers):
        if c.id in seen:
            raise OrderError(f"customers[{i}].id", f"customer {c.id} appears twice")
        seen.add(c.id)
    return [to_builtins(c) for c in found.customers]


def parse_order(body: object, now_ms: int, stores: Sequence[str] | None = None,
                prefix: str = "") -> OrderRow:
    """One order validated: amounts add up, `store` (if given) is one of `stores`."""
    order = convert_body(body, Order, prefix)
    at = f"{prefix}." if prefix else ""
    for i, line in enumerate(order.lines):
        if line.amount != line.qty * line.unit_price:
            raise OrderError(f"{at}lines[{i}].amount",
                             f"must be qty × unit_price = {line.qty * line.unit_price}")
    if stores is not None and order.store is not UNSET and order.store not in stores:
        raise OrderError(f"{at}store", f"no store {order.store!r} in HQ's [[stores]]")
    plain: dict[str, Any] = to_builtins(order)
    return OrderRow(order.order_no, order.customer, order.salesperson,
                    None if order.store is UNSET else order.store, plain, body_hash(plain),
                    now_ms)


def join_catalog(order: Mapping[str, Any], catalog: Mapping[str, Mapping[str, Any]],
                 prefix: str) -> dict[str, Any]:
    """The order with each line's missing name, unit, spec and location taken from the catalog
    item of its SKU (the ERP's order lines carry SKU, quantity and price only)."""
    lines = order.get("lines")
    if not isinstance(lines, list):
        return dict(order)
    out = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            out.append(line)
            continue
        item = catalog.get(str(line.get("sku")))
        if item is None and "name" not in line:
            raise OrderError(f"{prefix}.lines[{i}].sku",
                             f"SKU {line.get('sku')!r} is not in the catalog and the line has "
                             "no name")
        joined = dict(line)
        for key in ("name", "unit", "spec", "location"):
            if key not in joined and item is not None and item.get(key):
                joined[key] = item[key]
        out.append(joined)
    return {**order, "lines": out}


def catalog_index(items: object) -> dict[str, Mapping[str, Any]]:
    """catalog.json (a list of items with `sku`) by SKU; OrderError naming a bad item."""
    if not isinstance(items, list):
        raise OrderError("catalog", "must be a JSON array of items")
    out: dict[str, Mapping[str, Any]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            raise OrderError(f"catalog[{i}].sku", "each item needs a sku")
        out[item["sku"]] = item
    return out


def sees_order(salesperson: str | None, stores: frozenset[str] | None, row: OrderRow) -> bool:
    """Whether a caller sees an order: a salesperson (`salesperson` set) only their own orders
    of their stores (or of no store); a store-scoped caller (`stores` set) their stores' orders;
    everyone else every order."""
    if salesperson is not None and row.salesperson != salesperson:
        return False
    if stores is None:
        return True
    if row.store is None:
        return salesperson is not None
    return row.store in stores
