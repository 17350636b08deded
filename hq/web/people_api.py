"""HQ's sign-in and people endpoints: login/logout, who am I, users, API tokens, audit, stores."""

from __future__ import annotations

import asyncio
import json
import secrets
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from hq.config import StoreEntry
from hq.people.accounts import (
    PeopleError,
    check_name,
    check_password,
    new_token,
    new_user,
    token_hash,
)
from hq.people.passwords import hash_password, verify_password
from hq.people.policy import ROLE_NAMES
from hq.store.people import Session
from hq.web.access import ACCESS, COOKIE, audit, principal
from sync.bounded_json import JsonLimitError, loads_bounded

STORES = web.AppKey("stores", dict[str, StoreEntry])
SESSION_MS = 12 * 3600 * 1000
LOGIN_WINDOW_MS = 15 * 60 * 1000
MAX_FAILED_PER_USER = 5
MAX_FAILED_PER_ADDRESS = 20
MAX_AUDIT = 1000
_DUMMY = hash_password("not a password", salt=b"\0" * 16)
"""Checked against when the user does not exist, so an unknown name costs the same time."""


def _error(status: int, field: str | None, reason: str) -> web.Response:
    return web.json_response({"error": {"field": field, "reason": reason}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _object(request: web.Request) -> dict[str, Any]:
    try:
        body = loads_bounded(await request.read())
    except JsonLimitError as e:
        raise PeopleError(e.field, e.reason) from None
    if not isinstance(body, dict):
        raise PeopleError("body", "must be a JSON object")
    return body


@web.middleware
async def people_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """A PeopleError is a JSON 400 naming its field."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except PeopleError as e:
        return _error(400, e.field, e.reason)


@lru_cache(maxsize=4)
def _page(name: str) -> str:
    return resources.files("hq.web").joinpath(f"static/{name}").read_text(encoding="utf-8")


def _html(name: str) -> web.Response:
    return web.Response(text=_page(name), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache", "X-Frame-Options": "DENY"})


async def login_page(request: web.Request) -> web.Response:
    """GET /login: the sign-in form (it posts JSON to /login)."""
    return _html("login.html")


async def admin_page(request: web.Request) -> web.Response:
    """GET /admin: users, API tokens and the audit log, for admins."""
    return _html("admin.html")


async def post_login(request: web.Request) -> web.Response:
    """POST /login {"user", "password"}: a session cookie and the CSRF token; 401 for a wrong
    name or password (which one is not said), 429 after too many failures."""
    body = await _object(request)
    extra = set(body) - {"user", "password"}
    if extra:
        raise PeopleError(str(min(extra)), "unknown field")
    name = check_name(body.get("user"), "user")
    password = body.get("password")
    if not isinstance(password, str) or not 1 <= len(password) <= 1024:
        raise PeopleError("password", "must be 1-1024 characters")
    a = request.app[ACCESS]
    address = request.remote or ""
    now = a.clock()
    by_user, by_address = await asyncio.to_thread(a.store.failed_logins, name, address,
                                                  now - LOGIN_WINDOW_MS)
    if by_user >= MAX_FAILED_PER_USER or by_address >= MAX_FAILED_PER_ADDRESS:
        await audit(request, name, "login_limited", name, False)
        return web.json_response(
            {"error": {"field": "user" if by_user >= MAX_FAILED_PER_USER else None,
                       "reason": "too many failed sign-ins; wait 15 minutes"}},
            status=429, headers={"Retry-After": str(LOGIN_WINDOW_MS // 1000)})
    user = await asyncio.to_thread(a.store.user, name)
    ok = await asyncio.to_thread(verify_password, password, user.password if user else _DUMMY)
    if user is None or user.disabled or not ok:
        await audit(request, name, "login_failed", name, False,
                    why="disabled" if user is not None and user.disabled and ok else "")
        return _error(401, "password", "wrong user name or password")
    cookie = secrets.token_urlsafe(32)
    session = Session(token_hash(cookie), user.name, secrets.token_urlsafe(32), now,
                      now + SESSION_MS)
    await asyncio.to_thread(a.store.session_add, session, now)
    await audit(request, user.name, "login", user.name, True)
    response = _json({"user": user.name, "display": user.display, "role": user.role,
                      "csrf": session.csrf})
    response.set_cookie(COOKIE, cookie, max_age=SESSION_MS // 1000, path="/", httponly=True,
                        samesite="Strict", secure=a.secure_cookies or request.secure)
    return response


async def post_logout(request: web.Request) -> web.Response:
    """POST /logout: the session ends (its cookie is cleared)."""
    who = principal(request)
    if who.session_key is not None:
        await asyncio.to_thread(request.app[ACCESS].store.session_end, who.session_key)
    await audit(request, who.label(), "logout", who.name, True)
    response = _json({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def get_me(request: web.Request) -> web.Response:
    """GET /v1/me: who I am, my role, my stores' boxes, and (signed in) my CSRF token."""
    who = principal(request)
    display = who.name
    stores: list[str] = []
    if who.kind == "user":
        user = await asyncio.to_thread(request.app[ACCESS].store.user, who.name)
        if user is not None:
            display, stores = user.display, list(user.stores)
    return _json({"kind": who.kind, "name": who.name, "display": display, "role": who.role,
                  "role_name": ROLE_NAMES.get(who.role or "", ""), "stores": stores,
                  "scopes": sorted(who.scopes),
                  "boxes": None if who.boxes is None else sorted(who.boxes),
                  "csrf": who.csrf})


async def get_users(request: web.Request) -> web.Response:
    """GET /v1/users (admin): every user, without password hashes."""
    users = await asyncio.to_thread(request.app[ACCESS].store.users)
    return _json({"users": [u.to_json() for u in users]})


async def post_user(request: web.Request) -> web.Response:
    """POST /v1/users (admin) {"name", "display", "role", "stores", "password"}: 201; 409 if
    the name is taken."""
    a = request.app[ACCESS]
    body = await _object(request)
    stores = request.app[STORES]
    user = await asyncio.to_thread(new_user, body, stores, a.clock())
    if not await asyncio.to_thread(a.store.user_add, user):
        return _error(409, "name", f"user {user.name!r} exists")
    return _json(user.to_json(), 201)


async def _change(request: web.Request, password: str | None, disabled: bool | None
                  ) -> web.Response:
    a = request.app[ACCESS]
    name = check_name(request.match_info["name"])
    hashed = None if password is None else await asyncio.to_thread(hash_password, password)
    if not await asyncio.to_thread(a.store.user_change, name, a.clock(), hashed, disabled):
        return _error(404, "name", f"no user {name!r}")
    user = await asyncio.to_thread(a.store.user, name)
    assert user is not None
    return _json(user.to_json())


async def post_user_disable(request: web.Request) -> web.Response:
    """POST /v1/users/{name}/disable (admin): no more sign-ins; their sessions end."""
    return await _change(request, None, True)


async def post_user_enable(request: web.Request) -> web.Response:
    """POST /v1/users/{name}/enable (admin)."""
    return await _change(request, None, False)


async def post_user_password(request: web.Request) -> web.Response:
    """POST /v1/users/{name}/password (admin) {"password"}: set; their sessions end."""
    body = await _object(request)
    extra = set(body) - {"password"}
    if extra:
        raise PeopleError(str(min(extra)), "unknown field")
    return await _change(request, check_password(body.get("password")), None)


async def get_tokens(request: web.Request) -> web.Response:
    """GET /v1/tokens (admin): every API token (never its text)."""
    tokens = await asyncio.to_thread(request.app[ACCESS].store.tokens)
    return _json({"tokens": [t.to_json() for t in tokens]})


async def post_token(request: web.Request) -> web.Response:
    """POST /v1/tokens (admin) {"name", "scopes"}: 201 with the token's text, shown this once."""
    a = request.app[ACCESS]
    token, secret = new_token(await _object(request), principal(request).label(), a.clock())
    await asyncio.to_thread(a.store.token_add, token)
    return _json({**token.to_json(), "token": secret}, 201)


async def post_token_revoke(request: web.Request) -> web.Response:
    """POST /v1/tokens/{id}/revoke (admin): the token stops working at once."""
    a = request.app[ACCESS]
    token_id = request.match_info["id"]
    if not await asyncio.to_thread(a.store.token_revoke, token_id, a.clock()):
        return _error(404, "id", "no such unrevoked token")
    return _json({"id": token_id, "revoked": True})


async def get_audit(request: web.Request) -> web.Response:
    """GET /v1/audit[?limit=N&before=ID] (admin): the audit log, newest first."""
    values: dict[str, int | None] = {"limit": 200, "before": None}
    for name in request.query:
        if name not in values:
            return _error(400, name, "unknown query parameter")
        raw = request.query[name]
        top = MAX_AUDIT if name == "limit" else 2**62
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or not 1 <= int(raw) <= top:
            return _error(400, name, f"must be a whole number from 1 to {top}")
        values[name] = int(raw)
    limit = values["limit"] or 200
    entries = await asyncio.to_thread(request.app[ACCESS].store.audit, limit, values["before"])
    return _json({"audit": entries})


def add_routes(app: web.Application) -> None:
    """Register the sign-in and people routes (their rules: hq.people.policy)."""
    r = app.router
    r.add_get("/login", login_page)
    r.add_post("/login", post_login)
    r.add_post("/logout", post_logout)
    r.add_get("/admin", admin_page)
    r.add_get("/v1/me", get_me)
    r.add_get("/v1/users", get_users)
    r.add_post("/v1/users", post_user)
    r.add_post("/v1/users/{name}/disable", post_user_disable)
    r.add_post("/v1/users/{name}/enable", post_user_enable)
    r.add_post("/v1/users/{name}/password", post_user_password)
    r.add_get("/v1/tokens", get_tokens)
    r.add_post("/v1/tokens", post_token)
    r.add_post("/v1/tokens/{id}/revoke", post_token_revoke)
    r.add_get("/v1/audit", get_audit)
