"""Sign-in for browsers on the box: GET /login (the page), POST /v1/session (token → cookie),
GET /v1/session (the CSRF token of the signed-in page), POST /v1/session/logout."""

from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources

from aiohttp import web

from agent.api.http import PAGE_SESSION, error, json_response, read_json
from agent.api.page_sessions import COOKIE, TTL_MS, PageSessions
from agent.journal.clock import wall_ms
from drivers import InvalidInput
from validation import Schema, ValidationError
from validation.decode import convert

routes = web.RouteTableDef()
SESSIONS: web.AppKey[PageSessions | None] = web.AppKey("page_sessions")


class SessionRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/session."""

    token: str


@lru_cache(maxsize=1)
def login_html() -> str:
    """The sign-in page (agent/static/login.html)."""
    return resources.files("agent").joinpath("static/login.html").read_text(encoding="utf-8")


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    """The page where staff paste the box's API token once."""
    return web.Response(text=login_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


@routes.post("/v1/session")
async def sign_in(request: web.Request) -> web.Response:
    """Trade the API token for a session cookie (HttpOnly, SameSite=Strict); 401 for a wrong
    token, 429 after ten wrong ones from one address in a minute."""
    sessions = request.app[SESSIONS]
    if sessions is None:
        return error(409, None, "this box has no API token: its API needs no sign-in")
    address = request.remote or "?"
    now = wall_ms()
    if sessions.blocked(address, now):
        resp = error(429, "token", "too many wrong tokens from this address; wait a minute")
        resp.headers["Retry-After"] = "60"
        return resp
    try:
        body = convert(await read_json(request), SessionRequest, whole="body")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    if not sessions.token_ok(body.token.strip()):
        sessions.failed(address, now)
        return error(401, "token", "not this box's API token")
    cookie, csrf, expires = sessions.open(now, os.urandom(48))
    resp = json_response({"csrf": csrf, "expires_ms": expires})
    resp.set_cookie(COOKIE, cookie, max_age=TTL_MS // 1000, path="/", httponly=True,
                    samesite="Strict", secure=request.secure)
    return resp


@routes.get("/v1/session")
async def session_state(request: web.Request) -> web.Response:
    """The signed-in page's CSRF token (null when the caller used the header or no token is
    configured); 401 from the token check otherwise."""
    found = request.get(PAGE_SESSION)
    if found is None:
        return json_response({"csrf": None, "expires_ms": None,
                              "token_required": request.app[SESSIONS] is not None})
    csrf, expires = found
    return json_response({"csrf": csrf, "expires_ms": expires, "token_required": True})


@routes.post("/v1/session/logout")
async def sign_out(request: web.Request) -> web.Response:
    """End this browser's session."""
    sessions = request.app[SESSIONS]
    cookie = request.cookies.get(COOKIE)
    if sessions is not None and cookie:
        sessions.close(cookie)
    resp = json_response({"signed_out": True})
    resp.del_cookie(COOKIE, path="/")
    return resp
