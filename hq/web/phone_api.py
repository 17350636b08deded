"""Cloud print from a phone (/m/print): a salesperson picks one of their orders (or types lines),
a picking list or sales slip, and a printer of a box of their stores; follows the job live, and
reprints only with a reason (a new job id; the reason and the original job are recorded)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web
from msgspec import UNSET

from hq.dispatch.cloud_print import Dispatcher, job_view
from hq.fleet.registry import Registry
from hq.orders import OrderError
from hq.orders.documents import (
    DOCUMENTS,
    parse_phone_job,
    parse_reason,
    print_job,
    template_data,
    typed_order,
)
from hq.people.policy import Principal
from hq.store.orders import Reprint
from hq.web import orders_api
from hq.web.access import audit, principal
from hq.web.orders_api import ORDERS, OrdersContext, answer, body_of, find_order, refusals
from hq.web.scope import job_visible
from sync.protocol.print_job import RECEIPT_TEMPLATES, REPRINT_TITLE, reprint_lines
from sync.static import inline_shared

PAGE_PATH = "/m/print"
MAX_HISTORY = 30


@dataclass
class PhoneContext:
    """What the phone handlers add to the orders' context."""

    registry: Registry
    dispatcher: Dispatcher


PHONE = web.AppKey("phone", PhoneContext)


@lru_cache(maxsize=1)
def page_html() -> str:
    """The page (hq/web/static/phone_print.html with sync/static/ui.js inlined)."""
    return inline_shared(resources.files("hq.web").joinpath("static/phone_print.html")
                         .read_text(encoding="utf-8"))


async def phone_page(request: web.Request) -> web.Response:
    """GET /m/print: the page (it signs in itself and holds no data)."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Frame-Options": "DENY"})


def printers_of(ctx: OrdersContext, phone: PhoneContext, who: Principal) -> list[dict[str, Any]]:
    """The printers of the boxes of the caller's stores, warehouses first (blocking)."""
    out: list[dict[str, Any]] = []
    for entry in sorted(ctx.stores.values(), key=lambda s: (s.kind != "warehouse", s.id)):
        for box in entry.boxes:
            if not who.sees(box):
                continue
            view = phone.registry.box(box) or {}
            for dev in view.get("devices", []):
                if dev.get("kind") == "printer":
                    out.append({"box": box, "printer": dev["id"], "store": entry.id,
                                "store_name": entry.name, "kind": entry.kind,
                                "state": dev.get("state"), "detail": dev.get("detail"),
                                "online": bool(view.get("online"))})
    return out


def _target(ctx: OrdersContext, phone: PhoneContext, who: Principal, box: str,
            printer: str) -> dict[str, Any]:
    """The printer if it is one of the caller's (blocking); OrderError 403 naming `box` or
    `printer` otherwise."""
    if not who.sees(box):
        raise OrderError("box", f"box {box!r} is not in your stores", 403)
    for p in printers_of(ctx, phone, who):
        if p["box"] == box and p["printer"] == printer:
            return p
    raise OrderError("printer", f"no printer {printer!r} on box {box!r} of your stores", 403)


def _salesperson(ctx: OrdersContext, who: Principal) -> dict[str, str]:
    """The salesperson printed on the document: the ERP id and the user's name (blocking)."""
    user = ctx.store.user(who.name) if who.kind == "user" else None
    sp_id = ctx.store.salesperson_of(who.name) if who.kind == "user" else None
    return {"id": sp_id or who.name, "name": user.display if user is not None else who.name}


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@refusals
async def get_printers(request: web.Request) -> web.Response:
    """GET /v1/m/printers: the printers the caller may send to."""
    ctx, phone, who = request.app[ORDERS], request.app[PHONE], principal(request)
    return answer({"printers": await asyncio.to_thread(printers_of, ctx, phone, who)})


@refusals
async def post_phone_job(request: web.Request) -> web.Response:
    """POST /v1/m/print-jobs {"box", "printer", "document", "order_no" | "lines", "customer"?}:
    the document built at HQ and sent as a cloud print job (201)."""
    ctx, phone, who = request.app[ORDERS], request.app[PHONE], principal(request)
    req = parse_phone_job(await body_of(request))
    now = ctx.clock()

    def build() -> tuple[dict[str, Any], dict[str, Any]]:
        target = _target(ctx, phone, who, req.box, req.printer)
        sp = _salesperson(ctx, who)
        if req.order_no is not UNSET:
            order: dict[str, Any] = find_order(ctx.store, who, req.order_no).body
        else:
            assert req.lines is not UNSET
            order = typed_order(req.lines, None if req.customer is UNSET else req.customer,
                                sp["id"], "SJ-" + secrets.token_hex(4).upper())
        customer = None
        if order["customer"] != "-":
            customer = ctx.store.customer(order["customer"])
            if customer is None:
                raise OrderError("customer", f"no customer {order['customer']!r}", 404)
        data = template_data(req.document, order, customer, sp, target["store_name"], now)
        return target, data

    target, data = await asyncio.to_thread(build)
    job = print_job(_new_id("m"), req.printer, req.document, data)
    view, _ = await phone.dispatcher.submit({"box": target["box"], "printer": req.printer,
                                             "job": job})
    await asyncio.to_thread(ctx.store.job_owner_set, job["id"], who.name)
    return answer(view, 201)


@refusals
async def post_reprint(request: web.Request) -> web.Response:
    """POST /v1/print-jobs/{id}/reprint {"reason"}: the same job again under a new id, with
    the reason and the original recorded (HQ's store and audit log); 404 for a job the caller
    may not see, 400 without a reason."""
    ctx, phone, who = request.app[ORDERS], request.app[PHONE], principal(request)
    original = request.match_info["id"]
    view = await phone.dispatcher.view(original)
    if view is None or not await job_visible(request, view):
        raise OrderError("id", "no such job", 404)
    reason = parse_reason(await body_of(request))
    row = await asyncio.to_thread(ctx.store.job, original)
    assert row is not None
    await asyncio.to_thread(_target, ctx, phone, who, row.box, row.printer)
    job = marked_reprint({k: v for k, v in row.body.items() if k != "expires_at"}, original,
                         reason)
    job["id"] = _new_id("r")
    new, _ = await phone.dispatcher.submit({"box": row.box, "printer": row.printer, "job": job})
    reprint = Reprint(job["id"], original, reason, who.name, ctx.clock())

    def record() -> None:
        ctx.store.job_owner_set(job["id"], who.name)
        ctx.store.reprint_add(reprint)

    await asyncio.to_thread(record)
    await audit(request, who.label(), "reprint", job["id"], True, original=original,
                reason=reason)
    return answer({**new, "reprint": reprint.to_json()}, 201)


def marked_reprint(job: dict[str, Any], original: str, reason: str) -> dict[str, Any]:
    """The job to send again, its paper headed 补打 with the original and the reason: a
    receipt template's `data.reprint` (docs/print-jobs.md), or text blocks before a document's;
    label templates and raw bytes go as they were."""
    mark = {"of": original, "reason": reason}
    if job.get("template") in RECEIPT_TEMPLATES and isinstance(job.get("data"), dict):
        return {**job, "data": {**job["data"], "reprint": mark}}
    doc = job.get("document")
    if isinstance(doc, dict) and isinstance(doc.get("blocks"), list):
        banner = [{"type": "text", "text": REPRINT_TITLE, "align": "center", "bold": True,
                   "width": 2, "height": 2},
                  *({"type": "text", "text": t} for t in reprint_lines(original, reason)),
                  {"type": "rule", "char": "="}]
        return {**job, "document": {**doc, "blocks": [*banner, *doc["blocks"]]}}
    return job


def _summary(body: dict[str, Any]) -> dict[str, Any]:
    """What the history shows of a job: its document, order number and customer."""
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    assert isinstance(data, dict)
    orders = data.get("orders") if isinstance(data.get("orders"), list) else None
    first = orders[0] if orders and isinstance(orders[0], dict) else data
    customer = first.get("customer") if isinstance(first.get("customer"), dict) else {}
    template = str(body.get("template") or "")
    return {"document": template, "document_name": DOCUMENTS.get(template, template),
            "order_no": first.get("order_no"), "customer": customer}


def my_jobs(ctx: OrdersContext, phone: PhoneContext, who: Principal) -> list[dict[str, Any]]:
    """The jobs the caller sent, newest first, with reprint records (blocking)."""
    now = phone.dispatcher.clock()
    ids = ctx.store.jobs_of(who.name, MAX_HISTORY)
    reprints = ctx.store.reprints(ids)
    out = []
    for job_id in ids:
        row = ctx.store.job(job_id)
        if row is None or not who.sees(row.box):
            continue
        view = job_view(row, ctx.store.job_states(job_id), now)
        r = reprints.get(job_id)
        out.append({**view, **_summary(row.body),
                    "reprint": r.to_json() if r is not None else None})
    return out


@refusals
async def get_my_jobs(request: web.Request) -> web.Response:
    """GET /v1/m/jobs: the caller's own jobs with state, history and reprint records."""
    ctx, phone, who = request.app[ORDERS], request.app[PHONE], principal(request)
    return answer({"jobs": await asyncio.to_thread(my_jobs, ctx, phone, who)})


def add_routes(app: web.Application, orders: OrdersContext, phone: PhoneContext) -> None:
    """Register the order and phone routes (their rules: hq.people.policy)."""
    app[ORDERS] = orders
    app[PHONE] = phone
    orders_api.add_routes(app)
    app.router.add_get(PAGE_PATH, phone_page)
    app.router.add_get("/v1/m/printers", get_printers)
    app.router.add_post("/v1/m/print-jobs", post_phone_job)
    app.router.add_get("/v1/m/jobs", get_my_jobs)
    app.router.add_post("/v1/print-jobs/{id}/reprint", post_reprint)
