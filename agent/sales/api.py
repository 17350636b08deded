"""/v1/sales, /v1/refunds, /v1/voids, /v1/day-close, /v1/day-reopen, /v1/handovers, /v1/journal.

Writing endpoints answer 201 with the record's seq and hash once it is committed; with an
`Idempotency-Key` header a repeated request answers 200 with the first record (`replayed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from agent.api.context import CTX
from agent.api.http import json_response, read_json
from agent.sales import UnavailableError, actions, closing
from agent.sales.audit import note
from agent.sales.idempotency import request_hash, valid_key
from agent.sales.service import Outcome, SalesService
from drivers import InvalidInput

routes = web.RouteTableDef()

KEY_HEADER = "Idempotency-Key"
PAGE = 100
MAX_PAGE = 1000
Action = Callable[[SalesService, object, str | None, str], Awaitable[Outcome]]


def _service(request: web.Request) -> SalesService:
    sales = request.app[CTX].sales
    if sales is None:
        raise UnavailableError("journal", "the journal is disabled (journal.enabled = false)")
    return sales


async def _object(request: web.Request) -> Mapping[str, Any]:
    body = await read_json(request)
    if not isinstance(body, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    return body


def _key(request: web.Request) -> str | None:
    key = request.headers.get(KEY_HEADER)
    if key is not None and not valid_key(key):
        raise InvalidInput(KEY_HEADER, "must be 1-128 printable ASCII characters, no spaces")
    return key


def _detail(out: Outcome, key: str | None) -> str:
    answer = out.json()
    parts = [f"{answer['type']} {answer['seq']}"]
    if "approval_seq" in answer:
        parts.append(f"approval {answer['approval_seq']}")
    if not out.created:
        parts.append("replayed")
    if key is not None:
        parts.append(f"key {key}")
    return ", ".join(parts)


async def _write(request: web.Request, event: str, action: Action) -> web.Response:
    svc = _service(request)
    body = await _object(request)
    note(request, event, claimed=body.get("clerk"))
    key = _key(request)
    out = await action(svc, body, key, request_hash(request.method, request.path, body))
    note(request, ref_seq=out.json()["seq"], detail=_detail(out, key))
    return json_response(out.json(), 201 if out.created else 200)


WRITES: tuple[tuple[str, str, Action], ...] = (
    # a sale: lines, payments (must add up), member, clerk; optional receipt and drawer
    ("/v1/sales", "sale.create", actions.sale),
    # a refund against an earlier sale (never more than was sold)
    ("/v1/refunds", "refund.create", actions.refund),
    # a void of a whole sale of the open day
    ("/v1/voids", "void.create", actions.void),
    # a workshop handover: flow card, step, worker, good and defective quantities
    ("/v1/handovers", "handover.create", actions.handover),
    # close the business day: day_close record, checkpoint, Z report on the receipt printer
    ("/v1/day-close", "day.close", closing.day_close),
)
"""The writing endpoints that only journal what their action makes of the body: path, audit
event, action."""


def _writer(event: str, action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        return await _write(request, event, action)
    return handle


for _path, _event, _action in WRITES:
    routes.post(_path)(_writer(_event, _action))


@routes.post("/v1/day-reopen")
async def post_day_reopen(request: web.Request) -> web.Response:
    """Re-open the last closed day (supervisor approval)."""
    svc = _service(request)
    body = await _object(request)
    note(request, "day.reopen", claimed=body.get("clerk"))
    out = await closing.day_reopen(svc, body)
    note(request, actor=out.extra["approver"], ref_seq=out.json()["seq"],
         detail=f"{out.extra['day']} re-opened, approval {out.json()['seq']} by "
                f"{out.extra['approver']}")
    return json_response(out.json(), 201)


def _int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 16:
        raise InvalidInput(name, "must be a record seq (a whole number ≥ 0)")
    return int(raw)


@routes.get("/v1/journal")
async def get_journal(request: web.Request) -> web.Response:
    """Records from `from` to `to` (inclusive seqs; at most 1000 per answer, then `next`)."""
    svc = _service(request)
    start = _int_param(request, "from", 0)
    stop = _int_param(request, "to", start + PAGE - 1)
    if stop < start:
        raise InvalidInput("to", "must not be below from")
    size = svc.journal.head.size
    last = min(stop, start + MAX_PAGE - 1, size - 1)
    entries = await asyncio.to_thread(svc.reader.entries, start, last) if last >= start else []
    more = last + 1 if last < min(stop, size - 1) else None
    return json_response({
        "log": svc.journal.head.log, "size": size, "from": start, "to": last,
        "entries": [{"hash": e.hash.hex(), "record": e.record(), "sig": e.sig.hex()}
                    for e in entries],
        "next": more})


@routes.get("/v1/journal/head")
async def get_head(request: web.Request) -> web.Response:
    """The chain head after the last committed record."""
    head = _service(request).journal.head
    return json_response({
        "log": head.log, "size": head.size, "seq": head.size - 1, "hash": head.hash.hex(),
        "time": head.time, "key": head.key, "totals": head.totals.to_json(),
        "last_close": {"seq": head.close.seq, "z": head.close.z} if head.close.z else None,
        "cosigned": head.cosigned})
