"""HQ's stores: the overview grid coloured by health and one store's page (boxes, devices, last
jobs, today's takings, alarms), each answering only what the caller may see."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from hq.config import StoreEntry
from hq.fleet.hq_link import HqLink, fleet_view
from hq.fleet.registry import Registry
from hq.fleet.store_health import store_health
from hq.people.policy import Principal, allows, rule_for
from hq.settlement.book import SettlementBook, on_day
from hq.store import HqStore
from hq.web.access import principal
from hq.web.dashboard import own_jobs, scoped_jobs
from hq.web.workshop_api import today

STORE_JOBS = 20
STORE_ALARMS = 50


@dataclass
class StoresView:
    """What the store pages read."""

    store: HqStore
    registry: Registry
    link: HqLink | None
    configured: tuple[str, ...]
    stores: Mapping[str, StoreEntry]
    book: SettlementBook
    clock: Callable[[], int]


VIEW = web.AppKey("stores_view", StoresView)


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def visible_stores(who: Principal, stores: Mapping[str, StoreEntry]) -> list[StoreEntry]:
    """The stores the caller works for (every store for unscoped roles and tokens)."""
    return [s for s in stores.values()
            if who.boxes is None or any(who.sees(b) for b in s.boxes)]


def _boxes_by_id(v: StoresView) -> dict[str, dict[str, Any]]:
    hq = v.link.snapshot() if v.link is not None else None
    ids = tuple(dict.fromkeys([*v.configured, *(b for s in v.stores.values() for b in s.boxes)]))
    return {b["id"]: b for b in fleet_view(v.registry.boxes(), ids, hq, v.clock())}


def _overview(v: StoresView, who: Principal) -> list[dict[str, Any]]:
    """Every visible store with its health (blocking)."""
    boxes = _boxes_by_id(v)
    out = []
    for s in visible_stores(who, v.stores):
        views = [boxes[b] for b in s.boxes if b in boxes]
        alarms = sum(len(v.store.alarms(b, 1000)) for b in s.boxes)
        out.append({**s.to_json(), **store_health(views, alarms).to_json()})
    return out


async def get_stores(request: web.Request) -> web.Response:
    """GET /v1/stores: the stores the caller may see, each with region, kind, boxes and health
    (`ok`, `warn`, `bad`, `empty`) and why."""
    v = request.app[VIEW]
    return _json({"stores": await asyncio.to_thread(_overview, v, principal(request))})


def _detail(v: StoresView, who: Principal, s: StoreEntry) -> dict[str, Any]:
    """One store's page data, each part only if the caller's role may read it (blocking)."""
    boxes = _boxes_by_id(v)
    views = [boxes[b] for b in s.boxes if b in boxes]
    alarms = [a for b in s.boxes for a in v.store.alarms(b, STORE_ALARMS)]
    alarms.sort(key=lambda a: -int(a["id"]))
    out: dict[str, Any] = {"store": s.to_json(),
                           **store_health(views, len(alarms)).to_json(), "boxes": views}
    now = v.clock()
    if allows(rule_for("GET", "/v1/print-jobs"), who):
        if who.role == "salesperson":
            jobs = [j for j in own_jobs(v.store, now, who.name, 500)
                    if j["box"] in s.boxes][:STORE_JOBS]
        else:
            jobs = scoped_jobs(v.store, now, list(s.boxes), STORE_JOBS)
        out["jobs"] = jobs
    if allows(rule_for("GET", "/v1/alarms"), who):
        out["alarms"] = alarms[:STORE_ALARMS]
    if allows(rule_for("GET", "/v1/settlements"), who):
        day = today()
        found = [x.to_json() for x in on_day(v.book.boxes(list(s.boxes)), day)]
        methods: dict[str, int] = {}
        for x in found:
            for m in x["methods"]:
                methods[m["method"]] = methods.get(m["method"], 0) + int(m["net"])
        out["today"] = {"day": day, "net": sum(int(x["totals"]["net"]) for x in found),
                        "methods": methods, "periods": len(found)}
    return out


async def get_store(request: web.Request) -> web.Response:
    """GET /v1/stores/{id}: one store's boxes with devices, health, and (as the role allows)
    its last jobs, today's takings and alarms; 404 for a store not the caller's."""
    v = request.app[VIEW]
    who = principal(request)
    s = v.stores.get(request.match_info["id"])
    if s is None or s not in visible_stores(who, v.stores):
        return _json({"error": {"field": "id", "reason": "no such store"}}, 404)
    return _json(await asyncio.to_thread(_detail, v, who, s))


@lru_cache(maxsize=2)
def _page(name: str) -> str:
    return resources.files("hq.web").joinpath(f"static/{name}").read_text(encoding="utf-8")


async def overview_page(request: web.Request) -> web.Response:
    """GET /stores: the stores on a grid by region, coloured by health, with search and
    filters."""
    return web.Response(text=_page("stores.html"), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def store_page(request: web.Request) -> web.Response:
    """GET /store?id=ID: one store's page."""
    return web.Response(text=_page("store.html"), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application) -> None:
    """Register the store routes (their rules: hq.people.policy)."""
    app.router.add_get("/stores", overview_page)
    app.router.add_get("/store", store_page)
    app.router.add_get("/v1/stores", get_stores)
    app.router.add_get("/v1/stores/{id}", get_store)
