"""HQ's pairing routes: the boxes' request/poll (no token: a box has none yet), adoption by
code and the adoption book (HQ's token), and the adoption page at /pairing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import msgspec
from aiohttp import web

from hq.pairing import PairingError
from hq.pairing.book import PairingBook
from hq.store import HqStore
from sync.bounded_json import JsonLimitError, loads_bounded
from sync.protocol.pairing import REQUESTS_PATH, PairingRequest
from validation import ValidationError
from validation.decode import decode_json

log = logging.getLogger(__name__)
PAGE_PATH = "/pairing"
OPEN_PATHS = (PAGE_PATH, REQUESTS_PATH)
"""Served without HQ's bearer token."""


@dataclass(frozen=True)
class Pairing:
    """The book and HQ's clock (ms), as the handlers reach them."""

    book: PairingBook
    clock: Callable[[], int]
    store: HqStore
    """HQ's store: how far it holds a replaced box's journal."""


PAIRING = web.AppKey("pairing", Pairing)
MAX_REQUEST = 16 * 1024


def _error(status: int, field: str | None, reason: str) -> web.Response:
    return web.json_response({"error": {"field": field, "reason": reason}}, status=status)


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.json.encode(obj), status=status,
                        content_type="application/json")


async def post_request(request: web.Request) -> web.Response:
    """POST /v1/pairing/requests: file (201) or poll (200) a box's pairing request."""
    data = await request.content.read(MAX_REQUEST + 1)
    try:
        req = decode_json(data, PairingRequest, whole="body", max_bytes=MAX_REQUEST)
    except ValidationError as e:
        return _error(400, e.path, e.reason)
    p = request.app[PAIRING]
    book, now = p.book, p.clock()
    try:
        first = await asyncio.to_thread(book.adoption_request_unknown, req)
        answer = await asyncio.to_thread(book.submit, req, now)
    except PairingError as e:
        return _error(e.status, e.field, e.reason)
    if first:
        log.info("配对请求 / pairing request from box %s (%s), waiting for adoption", req.box,
                 req.name or "no name")
    return _json(answer, 201 if first else 200)


async def post_adoption(request: web.Request) -> web.Response:
    """POST /v1/pairing/adoptions {code, store}: adopt the box waiting with `code`."""
    try:
        body = loads_bounded(await request.content.read(MAX_REQUEST + 1))
    except JsonLimitError as e:
        return _error(400, e.field, e.reason)
    if not isinstance(body, dict):
        return _error(400, None, "must be a JSON object {code, store}")
    unknown = sorted(set(body) - {"code", "store", "replaces"})
    if unknown:
        return _error(400, unknown[0], "unknown field")
    p = request.app[PAIRING]
    book, now = p.book, p.clock()
    try:
        a = await asyncio.to_thread(book.adopt, body.get("code"), body.get("store"), "api", now,
                                    body.get("replaces"), p.store.journal_head)
    except PairingError as e:
        if e.status == 404:
            log.warning("配对码错误 / a wrong pairing code was entered (adoption refused)")
        return _error(e.status, e.field, e.reason)
    log.info("设备已接入 / box %s adopted into store %s (certificate %s)%s", a.box, a.store,
             a.serial, "" if a.replaces is None else " as a replacement")
    return _json(a, 201)


async def get_store_history(request: web.Request) -> web.Response:
    """GET /v1/pairing/stores/{store}: the store's boxes in adoption order, each log with what
    HQ holds of it and the log it continues — one history across replaced boxes."""
    p = request.app[PAIRING]
    store = request.match_info["store"]

    def history() -> list[dict[str, Any]]:
        out = []
        for a in p.book.history(store):
            head = p.store.journal_head(a.box)
            out.append({"box": a.box, "name": a.name, "log": a.log, "adopted_ms": a.adopted_ms,
                        "replaces": None if a.replaces is None else msgspec.json.decode(
                            a.replaces),
                        "held": None if head is None else {"log": head.log, "size": head.size,
                                                           "head": head.head.hex()}})
        return out

    logs = await asyncio.to_thread(history)
    if not logs:
        return _error(404, "store", f"no box was adopted into {store}")
    return _json({"store": store, "logs": logs})


async def get_book(request: web.Request) -> web.Response:
    """GET /v1/pairing: how many boxes wait, and every adoption."""
    p = request.app[PAIRING]
    book, now = p.book, p.clock()
    pending, adopted = await asyncio.to_thread(
        lambda: (book.pending(now), book.adoptions()))
    return _json({"pending": pending, "adopted": adopted})


@lru_cache(maxsize=1)
def page_html() -> str:
    """The adoption page (hq/pairing/static/pairing.html)."""
    return resources.files("hq.pairing").joinpath("static/pairing.html").read_text(
        encoding="utf-8")


async def pairing_page(request: web.Request) -> web.Response:
    """GET /pairing: the adoption page; it calls the API with the token it was opened with."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def install(app: web.Application, book: PairingBook, clock: Callable[[], int],
            store: HqStore) -> None:
    """Add the pairing routes to HQ's application."""
    app[PAIRING] = Pairing(book, clock, store)
    app.router.add_get("/v1/pairing/stores/{store}", get_store_history)
    app.router.add_post(REQUESTS_PATH, post_request)
    app.router.add_post("/v1/pairing/adoptions", post_adoption)
    app.router.add_get("/v1/pairing", get_book)
    app.router.add_get(PAGE_PATH, pairing_page)
