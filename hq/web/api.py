"""HQ's HTTP API (aiohttp): cloud print jobs, the device registry, alarms, commands, journals."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aiohttp import web

from hq.alert_config import AlertConfig
from hq.config import StoreEntry
from hq.dispatch.cloud_print import Dispatcher, DispatchError
from hq.fleet.hq_link import HqLink, fleet_view, never_seen, presence_at_hq
from hq.fleet.registry import Registry
from hq.settlement.book import Settlement, SettlementBook, on_day
from hq.store import HqStore, StoreUnavailableError
from hq.store.outage import OutageLog
from hq.web import (
    alerts_api,
    clearing_api,
    people_api,
    phone_api,
    reports_api,
    stores_api,
    workshop_api,
)
from hq.web.access import ACCESS, Access, access_middleware, principal
from hq.web.dashboard import MAX_JOBS, PAGE_PATH, dashboard_page, own_jobs, recent_jobs, scoped_jobs
from hq.web.metrics import HqCounters, families
from hq.web.orders_api import OrdersContext
from hq.web.reports_api import Reports
from hq.web.scope import body_box_visible, job_visible, visible
from hq.workshop.book import WorkshopBook
from sync.bounded_json import JsonLimitError, loads_bounded
from sync.latency_trace import mark
from sync.protocol.topics import BOX_ID
from sync.web.connections import busy_middleware
from sync.web.edge import EdgePolicy, edge_middleware

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ApiContext:
    """What the handlers work on."""

    store: HqStore
    registry: Registry
    dispatcher: Dispatcher
    token: str = ""
    boxes: tuple[str, ...] = ()
    """The configured boxes (settlements also cover boxes not yet born)."""
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    link: HqLink | None = None
    """HQ's own broker link (None: not tracked, boxes shown as the registry has them)."""
    stores: Mapping[str, StoreEntry] = field(default_factory=dict)
    """The configured stores (store-scoped users see their stores' boxes only)."""
    secure_cookies: bool = False
    counters: HqCounters = field(default_factory=HqCounters)
    """What this worker counted for GET /metrics."""
    adopted: Callable[[], Sequence[str]] = tuple
    """The boxes adopted by pairing code (blocking; listed like configured ones)."""
    first_contact_share: float = 0.30
    """`[reports] first_contact_share` (hq.reports)."""
    alerts: AlertConfig = field(default_factory=AlertConfig)
    """`[alerts]` (a clearing run clears the difference alerts it books)."""

    def known_boxes(self) -> tuple[str, ...]:
        """The configured boxes, then the adopted ones (blocking: run in a thread)."""
        return tuple(dict.fromkeys([*self.boxes, *self.adopted()]))


CTX = web.AppKey("ctx", ApiContext)
BOOK = web.AppKey("settlements", SettlementBook)
OUTAGE = web.AppKey("store_outage", OutageLog)
MAX_BODY = 8 * 1024 * 1024
MAX_ALARMS = 1000
MAX_JOURNAL_PAGE = 100_000
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _error(status: int, field: str | None, reason: str) -> web.Response:
    return web.json_response({"error": {"field": field, "reason": reason}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def _last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Whatever escapes is answered in JSON: 507 for a full disk, 503 + Retry-After while the
    store is unreachable, else 500 (logged)."""
    mark("hq.request")
    try:
        response = await handler(request)
    except web.HTTPException:
        raise
    except Exception as e:
        if _disk_full(e):
            log.error("disk full on %s %s: %s", request.method, request.path, e)
            return _error(507, None, "HQ's disk is full; nothing was changed — free space and "
                                     "try again")
        if _unavailable(e):
            # An outage, not a bug: one line per outage, and a status a client knows to retry.
            request.app[OUTAGE].failed(f"{request.method} {request.path}: {e}")
            answer = _error(503, None, "HQ's database is unreachable for now; try again")
            answer.headers["Retry-After"] = "1"
            return answer
        log.exception("unexpected failure on %s %s", request.method, request.path)
        return _error(500, None, "internal error; see HQ's log")
    if response.status < 500 and request.path.startswith("/v1/"):
        request.app[OUTAGE].succeeded()
    return response


def _unavailable(e: BaseException) -> bool:
    seen: BaseException | None = e
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, StoreUnavailableError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _disk_full(e: BaseException) -> bool:
    seen: BaseException | None = e
    for _ in range(8):
        if seen is None:
            return False
        if (isinstance(seen, OSError) and seen.errno == errno.ENOSPC) \
                or "disk is full" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DispatchError as e:
        return _error(e.status, e.field, e.reason)
    except web.HTTPException as e:
        if e.empty_body or e.status < 400:
            raise
        return _error(e.status, None, e.reason)


async def _body(request: web.Request) -> object:
    try:
        return loads_bounded(await request.read())
    except JsonLimitError as e:
        raise DispatchError(400, e.field, e.reason) from None


def _int_query(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """Query parameter `name` as a whole number in [lo, hi] (ASCII digits); 400 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or not lo <= int(raw) <= hi:
        raise DispatchError(400, name, f"must be a whole number from {lo} to {hi}")
    return int(raw)


def _only_queries(request: web.Request, allowed: frozenset[str]) -> None:
    """400 naming the first query parameter that is not in `allowed`."""
    for name in request.query:
        if name not in allowed:
            raise DispatchError(400, name, "unknown query parameter")


def _box_query(request: web.Request) -> str | None:
    """The optional `box` filter; 400 if it is not a box id."""
    box = request.query.get("box")
    if box is not None and not BOX_ID.fullmatch(box):
        raise DispatchError(400, "box", "must be a box id")
    return box


def _box_id(request: web.Request) -> str:
    box = request.match_info["box"]
    if not BOX_ID.fullmatch(box):
        raise DispatchError(404, "box", f"no box {box!r}")
    return box


async def post_job(request: web.Request) -> web.Response:
    """POST /v1/print-jobs {"box", "printer", "job"}: 201 new, 200 repeat, 409 conflict."""
    mark("hq.handler")
    body = await _body(request)
    body_box_visible(request, body)
    view, created = await request.app[CTX].dispatcher.submit(body)
    who = principal(request)
    if who.kind == "user" and view.get("id"):
        await asyncio.to_thread(request.app[CTX].store.job_owner_set, str(view["id"]), who.name)
    if not created and not await job_visible(request, view):
        return _error(409, "job.id", "a job with this id exists")
    mark("hq.answer")
    return _json(view, 201 if created else 200)


async def get_job(request: web.Request) -> web.Response:
    """GET /v1/print-jobs/{id}: state and history as reported by the box."""
    view = await request.app[CTX].dispatcher.view(request.match_info["id"])
    if view is None or not await job_visible(request, view):
        return _error(404, "id", "no such job")
    return _json(view)


async def get_boxes(request: web.Request) -> web.Response:
    """GET /v1/boxes: every configured box (even one never heard from) and every box known
    from births, deaths and telemetry; and HQ's own broker link (`hq_link`)."""
    ctx = request.app[CTX]
    who = principal(request)
    hq = ctx.link.snapshot() if ctx.link is not None else None

    def load() -> list[dict[str, Any]]:
        boxes = [b for b in fleet_view(ctx.registry.boxes(), ctx.known_boxes(), hq,
                                       ctx.registry.clock()) if who.sees(b["id"])]
        for b in boxes:
            held = ctx.store.journal_head(b["id"])
            b["hq_journal"] = ({"log": held.log, "size": held.size, "head": held.head.hex()}
                               if held else None)
        return boxes

    return _json({"boxes": await asyncio.to_thread(load),
                  "hq_link": hq.to_obj() if hq is not None else None})


async def get_box(request: web.Request) -> web.Response:
    """GET /v1/boxes/{box}: one box, with its journal position at HQ."""
    ctx = request.app[CTX]
    box = _box_id(request)
    view = await asyncio.to_thread(ctx.registry.box, box)
    held = await asyncio.to_thread(ctx.store.journal_head, box)
    if view is None and held is None and box not in await asyncio.to_thread(ctx.known_boxes):
        return _error(404, "box", f"no box {box!r}")
    hq = ctx.link.snapshot() if ctx.link is not None else None
    view = view or never_seen(box)
    view["presence"] = presence_at_hq(view, hq, ctx.registry.clock())
    view["hq_journal"] = ({"log": held.log, "size": held.size, "head": held.head.hex()}
                          if held else None)
    return _json(view)


async def get_alarms(request: web.Request) -> web.Response:
    """GET /v1/alarms[?box=ID&limit=N]: refusals with their evidence, newest first."""
    _only_queries(request, frozenset({"box", "limit"}))
    box = _box_query(request)
    limit = _int_query(request, "limit", 100, 1, MAX_ALARMS)
    store = request.app[CTX].store
    if box is not None or principal(request).boxes is None:
        return _json({"alarms": await asyncio.to_thread(store.alarms, box, limit)})
    ids = sorted(principal(request).boxes or ())

    def scoped() -> list[dict[str, Any]]:
        found = [a for b in ids for a in store.alarms(b, limit)]
        return sorted(found, key=lambda a: -int(a["id"]))[:limit]

    return _json({"alarms": await asyncio.to_thread(scoped)})


async def post_command(request: web.Request) -> web.Response:
    """POST /v1/boxes/{box}/commands {"name", "args", "lifetime_s"}: signed and sent (202)."""
    box = _box_id(request)
    result = await request.app[CTX].dispatcher.command(box, await _body(request))
    return _json(result, 202)


async def post_production_task(request: web.Request) -> web.Response:
    """POST /v1/production-tasks {"box", "task", "lifetime_s"}: the task sent to the box as the
    signed `production_task` command (202 COMMAND; the box's answer at /v1/commands/{nonce})."""
    body = await _body(request)
    if not isinstance(body, dict):
        raise DispatchError(400, "body", "must be a JSON object")
    extra = set(body) - {"box", "task", "lifetime_s"}
    if extra:
        raise DispatchError(400, str(min(extra)), "unknown field")
    box = body.get("box")
    if not isinstance(box, str) or not BOX_ID.fullmatch(box):
        raise DispatchError(400, "box", "must be a box id")
    body_box_visible(request, body)
    if not isinstance(body.get("task"), dict):
        raise DispatchError(400, "task", "must be an object (the production task)")
    command: dict[str, Any] = {"name": "production_task", "args": {"task": body["task"]}}
    if "lifetime_s" in body:
        command["lifetime_s"] = body["lifetime_s"]
    result = await request.app[CTX].dispatcher.command(box, command)
    return _json(result, 202)


async def get_command(request: web.Request) -> web.Response:
    """GET /v1/commands/{nonce}: the command and the box's answer."""
    cmd = await asyncio.to_thread(request.app[CTX].store.command, request.match_info["nonce"])
    if cmd is None or not principal(request).sees(str(cmd["box"])):
        return _error(404, "nonce", "no such command")
    return _json(cmd)


async def get_journal(request: web.Request) -> web.StreamResponse:
    """GET /v1/boxes/{box}/journal[?from=SEQ&limit=N]: HQ's copy as JSON Lines export."""
    ctx = request.app[CTX]
    box = _box_id(request)
    _only_queries(request, frozenset({"from", "limit"}))
    start = _int_query(request, "from", 0, 0, 2**53 - 1)
    limit = _int_query(request, "limit", 10_000, 1, MAX_JOURNAL_PAGE)
    if not await asyncio.to_thread(_known_box, ctx, box):
        return _error(404, "box", f"no box {box!r}")
    rows = await asyncio.to_thread(ctx.store.journal_entries, box, start, start + limit)
    return web.Response(text="".join(r.export_line() for r in rows),
                        content_type="application/jsonl", charset="utf-8")


async def get_jobs(request: web.Request) -> web.Response:
    """GET /v1/print-jobs[?box=ID&limit=N]: the newest jobs with state and history."""
    ctx = request.app[CTX]
    _only_queries(request, frozenset({"box", "limit"}))
    box = _box_query(request)
    limit = _int_query(request, "limit", 50, 1, MAX_JOBS)
    who = principal(request)
    if who.role == "salesperson":
        jobs = await asyncio.to_thread(own_jobs, ctx.store, ctx.dispatcher.clock(), who.name,
                                       limit, box)
    elif box is not None or who.boxes is None:
        jobs = await asyncio.to_thread(recent_jobs, ctx.store, ctx.dispatcher.clock(), limit,
                                       box)
    else:
        jobs = await asyncio.to_thread(scoped_jobs, ctx.store, ctx.dispatcher.clock(),
                                       sorted(who.boxes), limit)
    return _json({"jobs": jobs})


def _day(request: web.Request) -> str | None:
    day = request.query.get("day") or None
    if day is not None:
        try:
            if not DAY.fullmatch(day):
                raise ValueError(day)
            date.fromisoformat(day)
        except ValueError:
            raise DispatchError(400, "day", "must be a date YYYY-MM-DD") from None
    return day


def _settlements(found: list[Settlement], day: str | None) -> web.Response:
    days = sorted({s.day for s in found}, reverse=True)
    return _json({"day": day, "days": days[:62],
                  "settlements": [s.to_json() for s in on_day(found, day)[:1000]]})


async def get_settlements(request: web.Request) -> web.Response:
    """GET /v1/settlements[?day=YYYY-MM-DD&box=ID]: takings per box, Z period and method,
    reconciled against each signed day close (docs/hq.md)."""
    ctx = request.app[CTX]
    _only_queries(request, frozenset({"day", "box"}))
    day = _day(request)
    box = _box_query(request)

    def load() -> list[Settlement]:
        ids = [box] if box is not None else [*ctx.store.box_states(), *ctx.boxes]
        return request.app[BOOK].boxes(visible(request, ids))

    return _settlements(await asyncio.to_thread(load), day)


async def get_box_settlements(request: web.Request) -> web.Response:
    """GET /v1/boxes/{box}/settlements[?day=YYYY-MM-DD]: one box's settlements."""
    ctx = request.app[CTX]
    box = _box_id(request)
    _only_queries(request, frozenset({"day"}))
    day = _day(request)
    if not await asyncio.to_thread(_known_box, ctx, box):
        return _error(404, "box", f"no box {box!r}")
    return _settlements(await asyncio.to_thread(request.app[BOOK].box, box), day)


def _workshop_boxes(request: web.Request) -> tuple[list[str], str | None]:
    ctx = request.app[CTX]
    return visible(request, [*ctx.store.box_states(), *ctx.boxes]), _box_query(request)


async def get_workshop_tasks(request: web.Request) -> web.Response:
    """GET /v1/workshop/tasks[?box=ID]: each production task's progress (docs/hq.md)."""
    ids, box = await asyncio.to_thread(_workshop_boxes, request)
    tasks = await workshop_api.progress(request, ids, box)
    return _json({"today": workshop_api.today(), "tasks": tasks})


async def get_workshop_pieces(request: web.Request) -> web.Response:
    """GET /v1/workshop/pieces[?day=YYYY-MM-DD&box=ID]: piece counts per worker, day, step."""
    day = _day(request)
    ids, box = await asyncio.to_thread(_workshop_boxes, request)
    return _json({"day": day, "pieces": await workshop_api.pieces(request, ids, box, day)})


async def get_workshop_pieces_csv(request: web.Request) -> web.Response:
    """GET /v1/workshop/pieces.csv[?day=&box=]: the same rows as CSV for payroll."""
    day = _day(request)
    ids, box = await asyncio.to_thread(_workshop_boxes, request)
    return workshop_api.csv_response(await workshop_api.pieces(request, ids, box, day), day)


async def get_workshop_pieces_xlsx(request: web.Request) -> web.Response:
    """GET /v1/workshop/pieces.xlsx[?day=&box=]: the same rows as an XLSX workbook."""
    day = _day(request)
    ids, box = await asyncio.to_thread(_workshop_boxes, request)
    return await workshop_api.xlsx_response(
        await workshop_api.pieces(request, ids, box, day), day)


def _known_box(ctx: ApiContext, box: str) -> bool:
    """Configured, or heard of (registry), or HQ holds its journal (blocking)."""
    return (box in ctx.boxes or ctx.store.box_state(box) is not None
            or ctx.store.journal_head(box) is not None)


async def get_metrics(request: web.Request) -> web.Response:
    """GET /metrics (Prometheus text format, docs/deploy.md); 400 naming an unknown query
    parameter."""
    from sync.metrics_text import exposition  # prometheus-client: only once scraped

    for name in request.query:
        if name != "token":
            raise DispatchError(400, name, "unknown query parameter (only token is taken)")
    ctx = request.app[CTX]
    link = ctx.link.snapshot() if ctx.link is not None else None
    boxes = await asyncio.to_thread(lambda: fleet_view(ctx.registry.boxes(), ctx.known_boxes(),
                                                       link, ctx.registry.clock()))
    fams = families(ctx.counters.copy(), boxes, link)
    expo = await asyncio.to_thread(exposition)
    return web.Response(body=expo.render(fams), headers={"Content-Type": expo.content_type,
                                                         "Cache-Control": "no-store"})


def make_app(ctx: ApiContext) -> web.Application:
    """The aiohttp application."""
    policy = EdgePolicy.of(ctx.allowed_hosts, ctx.allowed_origins)
    app = web.Application(middlewares=[_last_resort, busy_middleware, edge_middleware(policy),
                                       access_middleware(), _guard, people_api.people_errors],
                          client_max_size=MAX_BODY)
    app[CTX] = ctx
    app[ACCESS] = Access(ctx.store, ctx.dispatcher.clock, ctx.token,
                         {s.id: s.boxes for s in ctx.stores.values()}, ctx.secure_cookies)
    app[people_api.STORES] = dict(ctx.stores)
    people_api.add_routes(app)
    app[BOOK] = SettlementBook(ctx.store)
    app[OUTAGE] = OutageLog(log, "HTTP request(s)")
    app[stores_api.VIEW] = stores_api.StoresView(ctx.store, ctx.registry, ctx.link, ctx.boxes,
                                                 ctx.stores, app[BOOK], ctx.dispatcher.clock)
    stores_api.add_routes(app)
    clearing_api.add_routes(app, ctx.store, ctx.stores, ctx.known_boxes, ctx.dispatcher.clock,
                            ctx.alerts)
    alerts_api.add_routes(app)
    app[workshop_api.WORKSHOP] = WorkshopBook(ctx.store)
    reports_api.add_routes(app, Reports(ctx.store, ctx.stores, ctx.first_contact_share,
                                        ctx.dispatcher.clock))
    app.router.add_get(PAGE_PATH, dashboard_page)
    app.router.add_post("/v1/print-jobs", post_job)
    app.router.add_get("/v1/print-jobs", get_jobs)
    app.router.add_get("/v1/print-jobs/{id}", get_job)
    app.router.add_get("/v1/boxes", get_boxes)
    app.router.add_get("/v1/boxes/{box}", get_box)
    app.router.add_post("/v1/boxes/{box}/commands", post_command)
    app.router.add_get("/v1/boxes/{box}/journal", get_journal)
    app.router.add_get("/v1/commands/{nonce}", get_command)
    app.router.add_get("/v1/alarms", get_alarms)
    app.router.add_get("/v1/settlements", get_settlements)
    app.router.add_get("/v1/boxes/{box}/settlements", get_box_settlements)
    app.router.add_get(workshop_api.PAGE_PATH, workshop_api.workshop_page)
    app.router.add_post("/v1/production-tasks", post_production_task)
    app.router.add_get("/v1/workshop/tasks", get_workshop_tasks)
    app.router.add_get("/v1/workshop/pieces", get_workshop_pieces)
    app.router.add_get("/v1/workshop/pieces.csv", get_workshop_pieces_csv)
    app.router.add_get("/v1/workshop/pieces.xlsx", get_workshop_pieces_xlsx)
    app.router.add_get("/metrics", get_metrics)
    phone_api.add_routes(app, OrdersContext(ctx.store, ctx.stores, ctx.dispatcher.clock),
                         phone_api.PhoneContext(ctx.registry, ctx.dispatcher))
    return app
