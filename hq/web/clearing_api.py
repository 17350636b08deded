"""HQ's clearing endpoints: preview and run a business day, the recorded runs and their CSV and
XLSX exports, cash deposits; a store-scoped caller sees only its stores' lines."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from hq.alert_config import AlertConfig
from hq.alerts.book import clear_alert
from hq.clearing.book import ClearingBook, ClearingError
from hq.clearing.clear import match_deposits, mismatched_closes
from hq.clearing.export import to_csv, to_xlsx
from hq.config import StoreEntry
from hq.dispatch.cloud_print import DispatchError
from hq.people.policy import Principal
from hq.settlement.book import china_day
from hq.store import HqStore
from hq.store.clearing import ClearingRun, Deposit
from hq.web.access import principal
from sync.bounded_json import JsonLimitError, loads_bounded
from sync.static import inline_shared


@dataclass(frozen=True)
class Room:
    """What the clearing handlers work on."""

    book: ClearingBook
    clock: Callable[[], int]
    alerts: AlertConfig


ROOM = web.AppKey("clearing", Room)
DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
RUN_ID = re.compile(r"^CR-[0-9]{4}-[0-9]{2}-[0-9]{2}$")
MAX_DEPOSITS = 10_000
MAX_RUNS = 400
MAX_AMOUNT = 10**12
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _day(value: object, field: str = "day") -> str:
    """A calendar date YYYY-MM-DD; 400 naming `field` otherwise."""
    if not isinstance(value, str) or not DAY.fullmatch(value):
        raise DispatchError(400, field, "must be a date YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise DispatchError(400, field, "must be a date YYYY-MM-DD") from None
    return value


def _query_day(request: web.Request) -> str:
    for name in request.query:
        if name != "day":
            raise DispatchError(400, name, "unknown query parameter")
    return _day(request.query.get("day"))


async def _object(request: web.Request, fields: Iterable[str]) -> dict[str, Any]:
    try:
        body = loads_bounded(await request.read())
    except JsonLimitError as e:
        raise DispatchError(400, e.field, e.reason) from None
    if not isinstance(body, dict):
        raise DispatchError(400, "body", "must be a JSON object")
    for k in body:
        if k not in fields:
            raise DispatchError(400, k, "unknown field")
    return body


def _line_visible(who: Principal, line: Mapping[str, Any]) -> bool:
    return who.boxes is None or any(who.sees(b) for b in line["box_ids"])


def scoped(who: Principal, result: Mapping[str, Any]) -> dict[str, Any]:
    """A clearing as `who` may see it: a store-scoped caller gets only its stores' lines,
    adjustments and checkpoints, and no chain-wide totals."""
    if who.boxes is None:
        return dict(result)
    lines = [ln for ln in result["lines"] if _line_visible(who, ln)]
    mine = {b for ln in lines for b in ln["box_ids"]}
    return {**result, "lines": lines, "consolidated": None, "flagged": None,
            "adjustments_total": None,
            "adjustments": [a for a in result["adjustments"] if a["box"] in mine],
            "checkpoints": {b: c for b, c in result["checkpoints"].items() if b in mine}}


def _with_deposits(store: HqStore, who: Principal, result: dict[str, Any]) -> dict[str, Any]:
    """The clearing with each line's cash matched against the deposits of its day."""
    deps = [d.to_json() for d in store.deposits(result["day"], MAX_DEPOSITS)]
    matched = {m["store"]: m for m in match_deposits(result, deps)}
    out = scoped(who, result)
    out["cash"] = [matched[ln["store"]] for ln in out["lines"]]
    return out


async def get_preview(request: web.Request) -> web.Response:
    """GET /v1/clearing/preview?day=YYYY-MM-DD: what a run of the day would record now."""
    day = _query_day(request)
    book = request.app[ROOM].book
    who = principal(request)
    return _json(await asyncio.to_thread(
        lambda: _with_deposits(book.store, who, book.preview(day))))


async def post_run(request: web.Request) -> web.Response:
    """POST /v1/clearing/runs {"day"}: record the day's clearing (201); 409 if cleared."""
    body = await _object(request, ("day",))
    day = _day(body.get("day"))
    now = request.app[ROOM].clock()
    if day > china_day(now):
        raise DispatchError(400, "day", "must not be after today (China time)")
    book = request.app[ROOM].book
    try:
        run = await asyncio.to_thread(book.run, f"CR-{day}", day, principal(request).label(),
                                      now)
    except ClearingError:
        raise DispatchError(409, "day", f"{day} is already cleared; a cleared day never "
                                        "changes (later records show as adjustments)") from None
    await asyncio.to_thread(_booked, request.app[ROOM], run.body, now)
    return _json(await asyncio.to_thread(_with_deposits, book.store, principal(request),
                                         run.body), 201)


def _booked(room: Room, result: Mapping[str, Any], now_ms: int) -> None:
    """Clear the `clearing_difference` alert of each day close the run booked as 不一致: the
    run now records the difference, finance has it in hand."""
    for box, z in mismatched_closes(result):
        clear_alert(room.book.store, room.alerts, "clearing_difference", f"{box}#z{z}", now_ms)


async def get_runs(request: web.Request) -> web.Response:
    """GET /v1/clearing/runs: the newest 400 runs (id, day, who, when; totals for unscoped
    callers)."""
    who = principal(request)
    runs = await asyncio.to_thread(request.app[ROOM].book.store.clearing_runs, MAX_RUNS)
    out = []
    for _, r in runs:
        s = r.summary()
        if who.boxes is None:
            s["total"] = r.body["consolidated"]["total"]
            s["flagged"] = [ln["store"] for ln in r.body["lines"] if ln["flagged"]]
            s["adjustments"] = len(r.body["adjustments"])
        out.append(s)
    return _json({"runs": out})


async def _run(request: web.Request) -> ClearingRun:
    run_id = request.match_info["id"]
    run = (await asyncio.to_thread(request.app[ROOM].book.store.clearing_run, run_id)
           if RUN_ID.fullmatch(run_id) else None)
    if run is None:
        raise DispatchError(404, "id", f"no clearing run {run_id!r}")
    return run


async def get_run(request: web.Request) -> web.Response:
    """GET /v1/clearing/runs/{id}: one run as recorded, with today's deposit matching."""
    run = await _run(request)
    return _json(await asyncio.to_thread(_with_deposits, request.app[ROOM].book.store,
                                         principal(request), run.body))


def _download(body: bytes, kind: str, name: str) -> web.Response:
    return web.Response(body=body, headers={
        "Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "no-store"})


async def get_run_csv(request: web.Request) -> web.Response:
    """GET /v1/clearing/runs/{id}/export.csv: the run's figures as CSV."""
    run = await _run(request)
    return _download(to_csv(run.body), "text/csv; charset=utf-8", f"{run.id}.csv")


async def get_run_xlsx(request: web.Request) -> web.Response:
    """GET /v1/clearing/runs/{id}/export.xlsx: the run's figures as an XLSX workbook."""
    run = await _run(request)
    return _download(await asyncio.to_thread(to_xlsx, run.body), XLSX, f"{run.id}.xlsx")


def _text(body: Mapping[str, Any], field: str, lo: int, hi: int) -> str:
    v = body.get(field, "" if lo == 0 else None)
    if not isinstance(v, str) or not lo <= len(v) <= hi or any(ord(c) < 32 for c in v):
        raise DispatchError(400, field, f"must be text of {lo} to {hi} characters")
    return v


async def post_deposit(request: web.Request) -> web.Response:
    """POST /v1/clearing/deposits {"store", "day", "amount", "bank_ref", "note"}: record cash a
    store banked (amount in fen); 201 with the deposit."""
    body = await _object(request, ("store", "day", "amount", "bank_ref", "note"))
    book = request.app[ROOM].book
    lines = {s.id for s in await asyncio.to_thread(book.specs)}
    store = body.get("store")
    if not isinstance(store, str) or store not in lines:
        raise DispatchError(400, "store", "must be a configured store (or a box in no store)")
    day = _day(body.get("day"))
    amount = body.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise DispatchError(400, "amount", f"must be a whole number of fen from 1 to "
                                           f"{MAX_AMOUNT}")
    d = Deposit("DP-" + secrets.token_hex(6), store, day, amount,
                _text(body, "bank_ref", 1, 64), _text(body, "note", 0, 200),
                principal(request).label(), request.app[ROOM].clock())
    await asyncio.to_thread(book.store.deposit_add, d)
    return _json(d.to_json(), 201)


async def get_deposits(request: web.Request) -> web.Response:
    """GET /v1/clearing/deposits?day=YYYY-MM-DD: the day's deposits (of the caller's stores)."""
    day = _query_day(request)
    book = request.app[ROOM].book
    who = principal(request)

    def load() -> list[dict[str, Any]]:
        specs = {s.id: s for s in book.specs()}
        return [d.to_json() for d in book.store.deposits(day, MAX_DEPOSITS)
                if who.boxes is None or (d.store in specs
                                         and any(who.sees(b) for b in specs[d.store].boxes))]

    return _json({"day": day, "deposits": await asyncio.to_thread(load)})


@lru_cache(maxsize=1)
def _page() -> str:
    return inline_shared(resources.files("hq.web").joinpath("static/clearing.html")
                         .read_text(encoding="utf-8"))


async def clearing_page(request: web.Request) -> web.Response:
    """GET /clearing: pick a day, preview, run, export, deposits, adjustments."""
    return web.Response(text=_page(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application, store: HqStore, stores: Mapping[str, StoreEntry],
               boxes: Callable[[], Iterable[str]], clock: Callable[[], int],
               alerts: AlertConfig) -> None:
    """Register the clearing routes (their rules: hq.people.policy); a run clears the
    `clearing_difference` alerts of the closes it books (per `alerts`)."""
    app[ROOM] = Room(ClearingBook(store, stores, boxes), clock, alerts)
    app.router.add_get("/clearing", clearing_page)
    app.router.add_get("/v1/clearing/preview", get_preview)
    app.router.add_post("/v1/clearing/runs", post_run)
    app.router.add_get("/v1/clearing/runs", get_runs)
    app.router.add_get("/v1/clearing/runs/{id}", get_run)
    app.router.add_get("/v1/clearing/runs/{id}/export.csv", get_run_csv)
    app.router.add_get("/v1/clearing/runs/{id}/export.xlsx", get_run_xlsx)
    app.router.add_post("/v1/clearing/deposits", post_deposit)
    app.router.add_get("/v1/clearing/deposits", get_deposits)
