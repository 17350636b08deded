"""Customers and customer orders at HQ: the ERP pushes them with an `orders`-scoped token
(PUT /v1/customers, POST /v1/orders); people read the orders they may see (GET /v1/orders)."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hq.config import StoreEntry
from hq.orders import OrderError
from hq.orders.model import parse_customers, parse_order, sees_order
from hq.people.policy import STORE_ROLES, Principal
from hq.store import HqStore
from hq.store.orders import OrderRow
from hq.web.access import principal
from sync.bounded_json import JsonLimitError, loads_bounded

MAX_ORDERS = 500
Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass
class OrdersContext:
    """What the order and phone handlers work on."""

    store: HqStore
    stores: Mapping[str, StoreEntry]
    clock: Callable[[], int]


ORDERS = web.AppKey("orders", OrdersContext)


def error(status: int, field: str | None, reason: str) -> web.Response:
    """The JSON refusal every HQ route answers with."""
    return web.json_response({"error": {"field": field, "reason": reason}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def answer(obj: Any, status: int = 200) -> web.Response:
    """A JSON answer (Chinese kept as is)."""
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def refusals(handler: Handler) -> Handler:
    """An OrderError becomes its JSON refusal naming the field."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except OrderError as e:
            return error(e.status, e.field, e.reason)

    return wrapped


async def body_of(request: web.Request) -> object:
    """The request's JSON body (bounded); OrderError naming what is wrong."""
    try:
        return loads_bounded(await request.read())
    except JsonLimitError as e:
        raise OrderError(e.field, e.reason) from None


@dataclass(frozen=True)
class OrderScope:
    """Which orders a caller sees: `salesperson` set: only theirs; `stores` set: only these
    stores' (for a salesperson also orders of no store); both None: all."""

    salesperson: str | None
    stores: frozenset[str] | None

    def sees(self, row: OrderRow) -> bool:
        """Whether the caller sees this order."""
        return sees_order(self.salesperson, self.stores, row)


def order_scope(store: HqStore, who: Principal) -> OrderScope:
    """The caller's order scope (blocking). A salesperson not mapped to a salesperson id
    (`storelink hq orders salesperson`) sees no order."""
    if who.kind != "user" or who.role not in STORE_ROLES:
        return OrderScope(None, None)
    user = store.user(who.name)
    stores = frozenset(user.stores) if user is not None else frozenset()
    if who.role != "salesperson":
        return OrderScope(None, stores)
    return OrderScope(store.salesperson_of(who.name) or "", stores)


@refusals
async def put_customers(request: web.Request) -> web.Response:
    """PUT /v1/customers {"customers": [...]}: created or replaced by id (200)."""
    ctx = request.app[ORDERS]
    customers = parse_customers(await body_of(request))
    count = await asyncio.to_thread(ctx.store.customers_put, customers, ctx.clock())
    return answer({"customers": count})


@refusals
async def post_order(request: web.Request) -> web.Response:
    """POST /v1/orders ORDER: 201 new, 200 the same again, 409 another body under its number;
    the customer must be known (PUT /v1/customers first)."""
    ctx = request.app[ORDERS]
    row = parse_order(await body_of(request), ctx.clock(), list(ctx.stores))
    customer = await asyncio.to_thread(ctx.store.customer, row.customer)
    if customer is None:
        raise OrderError("customer", f"no customer {row.customer!r}; PUT /v1/customers first")
    stored, created = await asyncio.to_thread(ctx.store.order_add, row)
    if not created and stored.body_hash != row.body_hash:
        raise OrderError("order_no", f"order {row.order_no} exists with different content",
                         409)
    return answer(order_json(stored, customer), 201 if created else 200)


def order_json(row: OrderRow, customer: Mapping[str, Any] | None) -> dict[str, Any]:
    """An order as the API shows it, with its customer's id and name."""
    return {**row.body, "store": row.store, "created_ms": row.created_ms,
            "customer_name": customer.get("name") if customer else None,
            "total": sum(int(line["amount"]) for line in row.body["lines"])}


def visible_orders(store: HqStore, who: Principal, limit: int) -> list[dict[str, Any]]:
    """The newest orders the caller sees, with customer names (blocking)."""
    scope = order_scope(store, who)
    if scope.salesperson == "":
        return []
    rows = [r for r in store.orders_of(scope.salesperson, MAX_ORDERS) if scope.sees(r)][:limit]
    names: dict[str, dict[str, Any] | None] = {}
    for r in rows:
        if r.customer not in names:
            names[r.customer] = store.customer(r.customer)
    return [order_json(r, names[r.customer]) for r in rows]


@refusals
async def get_orders(request: web.Request) -> web.Response:
    """GET /v1/orders[?limit=N]: the newest orders the caller sees."""
    raw = request.query.get("limit", "100")
    for name in request.query:
        if name != "limit":
            raise OrderError(name, "unknown query parameter")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_ORDERS:
        raise OrderError("limit", f"must be a whole number from 1 to {MAX_ORDERS}")
    ctx = request.app[ORDERS]
    orders = await asyncio.to_thread(visible_orders, ctx.store, principal(request), int(raw))
    return answer({"orders": orders})


def find_order(store: HqStore, who: Principal, order_no: str) -> OrderRow:
    """The order if the caller sees it, else OrderError 404 naming `order_no` (blocking): an
    order of another salesperson is answered as one that does not exist."""
    row = store.order(order_no)
    if row is None or not order_scope(store, who).sees(row):
        raise OrderError("order_no", f"no order {order_no!r}", 404)
    return row


@refusals
async def get_order(request: web.Request) -> web.Response:
    """GET /v1/orders/{order_no}: one order the caller sees (404 otherwise)."""
    ctx = request.app[ORDERS]
    no = request.match_info["order_no"]

    def load() -> dict[str, Any]:
        row = find_order(ctx.store, principal(request), no)
        return order_json(row, ctx.store.customer(row.customer))

    return answer(await asyncio.to_thread(load))


def add_routes(app: web.Application) -> None:
    """Register the order routes (their rules: hq.people.policy)."""
    app.router.add_put("/v1/customers", put_customers)
    app.router.add_post("/v1/orders", post_order)
    app.router.add_get("/v1/orders", get_orders)
    app.router.add_get("/v1/orders/{order_no}", get_order)
