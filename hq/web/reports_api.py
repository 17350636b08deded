"""HQ's report and catalog routes, the reports page, and the task that keeps the aggregates
current (docs/hq.md §Reports, §Catalog). Store-scoped callers see only their stores."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from hq import HqError
from hq.catalog.products import CatalogError, parse_products
from hq.config import StoreEntry
from hq.reports.answers import Scope, answer
from hq.reports.facts import CHINA
from hq.reports.feed import ReportFeeder
from hq.reports.ranges import ReportError, parse_range
from hq.store import HqStore
from hq.web.access import principal
from sync.journal import RecordError
from sync.journal.schema import ident, run

log = logging.getLogger(__name__)
FEED_INTERVAL_S = 1.0
MAX_SEARCH = 200


@dataclass
class Reports:
    """What the report routes work with."""

    store: HqStore
    stores: Mapping[str, StoreEntry]
    share: float
    clock: Callable[[], int]
    feed_interval_s: float = FEED_INTERVAL_S


REPORTS = web.AppKey("reports", Reports)


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _error(status: int, field: str, reason: str) -> web.Response:
    return _json({"error": {"field": field, "reason": reason}}, status)


def store_of(stores: Mapping[str, StoreEntry]) -> dict[str, str]:
    """Each configured box's store."""
    return {b: s.id for s in stores.values() for b in s.boxes}


def _scope(request: web.Request, rep: Reports) -> Scope:
    """The stores this request's report covers: the caller's, narrowed by `store` or
    `region`; ReportError naming the parameter."""
    who = principal(request)
    mine = None if who.boxes is None else tuple(
        s.id for s in rep.stores.values() if any(who.sees(b) for b in s.boxes))
    region_of = {s.id: s.region for s in rep.stores.values()}
    wanted: tuple[str, ...] | None = mine
    store = request.query.get("store")
    region = request.query.get("region")
    if store:
        if store not in rep.stores:
            raise ReportError(404, "store", f"no store {store[:64]!r}")
        if mine is not None and store not in mine:
            raise ReportError(403, "store", f"store {store!r} is not one of yours")
        wanted = (store,)
    elif region:
        ids = tuple(s for s, r in region_of.items() if r == region)
        if not ids:
            raise ReportError(404, "region", f"no region {region[:64]!r}")
        wanted = ids if mine is None else tuple(s for s in ids if s in mine)
    return Scope(wanted, region_of, rep.share)


def _today(rep: Reports) -> date:
    return datetime.fromtimestamp(rep.clock() / 1000, CHINA).date()


async def get_report(request: web.Request) -> web.Response:
    """GET /v1/reports/{report}?from=&to=&store=&region=&by=&limit=: one report (sales,
    compare, top, methods, clerks) of the caller's stores."""
    rep = request.app[REPORTS]
    try:
        r = parse_range(request.query, _today(rep))
        scope = _scope(request, rep)
        out = await asyncio.to_thread(answer, rep.store, request.match_info["report"], scope, r,
                                      request.query)
    except ReportError as e:
        return _error(e.status, e.field, e.reason)
    out["stores"] = None if scope.stores is None else list(scope.stores)
    return _json(out)


async def get_contact(request: web.Request) -> web.Response:
    """GET /v1/reports/contacts/{member}: the member's first-contact clerk."""
    rep = request.app[REPORTS]
    found = await asyncio.to_thread(rep.store.report_contact, request.match_info["member"])
    if found is None or not _may_see_store(request, rep, str(found["store"])):
        return _error(404, "member", "no first contact recorded for this member")
    return _json(found)


def _may_see_store(request: web.Request, rep: Reports, store: str) -> bool:
    who = principal(request)
    s = rep.stores.get(store)
    return who.boxes is None or (s is not None and any(who.sees(b) for b in s.boxes))


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ReportError(400, "body", "must be a JSON object") from None
    if not isinstance(body, dict):
        raise ReportError(400, "body", "must be a JSON object")
    return body


async def put_contact(request: web.Request) -> web.Response:
    """PUT /v1/reports/contacts/{member} {"clerk", "store"}: HQ assigns the member's
    first-contact clerk; later sales are credited to them."""
    rep = request.app[REPORTS]
    member = request.match_info["member"]
    try:
        body = await _body(request)
        for name in ("member", "clerk", "store"):
            value = member if name == "member" else body.get(name)
            try:
                run(ident(), value, name)
            except RecordError as e:
                raise ReportError(400, e.field, e.reason) from None
        extra = sorted(set(body) - {"clerk", "store"})
        if extra:
            raise ReportError(400, extra[0], "unknown field; fields are clerk, store")
        if body["store"] not in rep.stores:
            raise ReportError(400, "store", f"no store {body['store']!r}")
    except ReportError as e:
        return _error(e.status, e.field, e.reason)
    who = principal(request)
    await asyncio.to_thread(rep.store.report_assign, member, body["clerk"], body["store"],
                            who.label(), rep.clock())
    return _json(await asyncio.to_thread(rep.store.report_contact, member))


async def get_catalog(request: web.Request) -> web.Response:
    """GET /v1/catalog?q=&limit=: products whose sku, name or barcode contains q."""
    rep = request.app[REPORTS]
    q = request.query.get("q", "")
    text = request.query.get("limit", "50")
    if len(q) > 120:
        return _error(400, "q", "must have at most 120 characters")
    if not text.isdigit() or not 1 <= int(text) <= MAX_SEARCH:
        return _error(400, "limit", f"must be an integer 1-{MAX_SEARCH}")
    found = await asyncio.to_thread(rep.store.catalog_search, q, int(text))
    return _json({"products": [p.to_json() for p in found]})


async def put_catalog(request: web.Request) -> web.Response:
    """PUT /v1/catalog {"products": [...]}: insert or replace products (all or none)."""
    rep = request.app[REPORTS]
    try:
        body = await _body(request)
        extra = sorted(set(body) - {"products"})
        if extra:
            raise ReportError(400, extra[0], "unknown field; the body is {\"products\": [...]}")
        products = parse_products(body.get("products"))
    except ReportError as e:
        return _error(e.status, e.field, e.reason)
    except CatalogError as e:
        return _error(400, e.field, e.reason)
    n = await asyncio.to_thread(rep.store.catalog_put, products, rep.clock())
    return _json({"written": n})


@lru_cache(maxsize=4)
def _static(name: str) -> bytes:
    return resources.files("hq.web").joinpath(f"static/{name}").read_bytes()


async def reports_page(request: web.Request) -> web.Response:
    """GET /reports: the reports page with charts (Chinese)."""
    return web.Response(body=_static("reports.html"), content_type="text/html",
                        charset="utf-8", headers={"Cache-Control": "no-cache"})


async def echarts_js(request: web.Request) -> web.Response:
    """GET /static/echarts.min.js: the vendored Apache ECharts (hq/web/static/)."""
    return web.Response(body=_static("echarts.min.js"), content_type="text/javascript",
                        charset="utf-8", headers={"Cache-Control": "max-age=86400"})


async def _feed_forever(rep: Reports) -> None:
    feeder = ReportFeeder(rep.store, store_of(rep.stores), rep.clock)
    while True:
        try:
            await asyncio.to_thread(feeder.catch_up)
        except HqError as e:
            log.warning("reports: cannot fold new records now: %s", e)
        await asyncio.sleep(rep.feed_interval_s)


async def _feeding(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_feed_forever(app[REPORTS]), name="hq-reports")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def add_routes(app: web.Application, rep: Reports) -> None:
    """Register the report and catalog routes (rules: hq.people.policy) and the feeder task."""
    app[REPORTS] = rep
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/static/echarts.min.js", echarts_js)
    app.router.add_get("/v1/reports/contacts/{member}", get_contact)
    app.router.add_put("/v1/reports/contacts/{member}", put_contact)
    app.router.add_get("/v1/reports/{report}", get_report)
    app.router.add_get("/v1/catalog", get_catalog)
    app.router.add_put("/v1/catalog", put_catalog)
    app.cleanup_ctx.append(_feeding)
