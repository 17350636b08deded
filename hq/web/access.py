"""Who is calling HQ, and may they: sessions, tokens, CSRF, the policy table, store scope, audit.

Runs after the shared edge (Host, Origin, JSON-only writes) and before every handler. Tokens are
taken only from the Authorization header (a `token` query parameter is refused, so it never
lands in a log or a browser history); browsers sign in and carry an HttpOnly, SameSite=Strict
session cookie, and every write made with it must echo the session's CSRF token in
`X-CSRF-Token`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from hq.people.accounts import token_hash
from hq.people.policy import (
    CONFIG_TOKEN,
    STORE_ROLES,
    Principal,
    allows,
    rule_for,
    store_boxes,
)
from hq.store import HqStore
from hq.store.people import AuditEntry
from sync.web.edge import WRITE_METHODS, refusal

log = logging.getLogger(__name__)
COOKIE = "storelink_session"
CSRF_HEADER = "X-CSRF-Token"
PRINCIPAL = web.RequestKey("principal", Principal)


@dataclass
class Access:
    """What the access checks work with."""

    store: HqStore
    clock: Callable[[], int]
    token: str = ""
    """The configured shared token (an admin-scoped API token); empty: loopback-only open mode."""
    boxes_of: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Each configured store's boxes."""
    secure_cookies: bool = False


ACCESS = web.AppKey("access", Access)


def principal(request: web.Request) -> Principal:
    """Who the request acts for (set by the middleware before any handler runs)."""
    return request[PRINCIPAL]


def route_of(request: web.Request) -> str | None:
    """The route pattern the request matched (`/v1/boxes/{box}`), None if none did."""
    info = request.match_info
    if info.http_exception is not None:
        return None
    return info.route.resource.canonical if info.route.resource is not None else None


async def audit(request: web.Request, actor: str, action: str, target: str, ok: bool,
                **detail: object) -> None:
    """Append one audit entry (in a thread); a failure to write it is logged, not hidden."""
    a = request.app[ACCESS]
    entry = AuditEntry(a.clock(), actor, action, target, request.remote or "", ok, dict(detail))
    await asyncio.to_thread(a.store.audit_add, entry)


def _user_principal(a: Access, cookie: str) -> Principal | None:
    """The signed-in user of a session cookie, None if expired, ended or disabled (blocking)."""
    key = token_hash(cookie)
    session = a.store.session(key, a.clock())
    if session is None:
        return None
    user = a.store.user(session.user)
    if user is None or user.disabled:
        return None
    boxes = store_boxes(user.stores, a.boxes_of) if user.role in STORE_ROLES else None
    return Principal("user", user.name, user.role, frozenset(), boxes, key, session.csrf)


def _token_principal(a: Access, secret: str) -> Principal | None:
    """The API token with this text, None if unknown or revoked (blocking)."""
    if a.token and hmac.compare_digest(secret.encode(), a.token.encode()):
        return Principal("token", CONFIG_TOKEN, scopes=frozenset({"admin"}))
    tok = a.store.token_by_hash(token_hash(secret))
    if tok is None:
        return None
    return Principal("token", f"{tok.name}#{tok.id}", scopes=frozenset(tok.scopes))


async def identify(request: web.Request) -> Principal | web.Response | None:
    """The caller, a 401 for a bad Authorization header, or None (nobody signed in)."""
    a = request.app[ACCESS]
    auth = request.headers.get("Authorization")
    if auth is not None:
        scheme, _, secret = auth.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return refusal(401, "Authorization", "must be `Bearer <token>`")
        who = await asyncio.to_thread(_token_principal, a, secret.strip())
        if who is None:
            return refusal(401, "Authorization", "a valid bearer token is required (this one "
                                                 "is unknown or revoked)")
        return who
    cookie = request.cookies.get(COOKIE)
    if cookie:
        who = await asyncio.to_thread(_user_principal, a, cookie)
        if who is not None:
            return who
    if not a.token:
        # No token configured (HQ then listens on loopback only): callers without credentials
        # act as the local operator, as before users existed.
        return Principal("local", "loopback", scopes=frozenset({"admin"}))
    return None


def _wants_page(request: web.Request) -> bool:
    return request.method in ("GET", "HEAD") and "text/html" in request.headers.get("Accept", "")


def _csrf_ok(request: web.Request, who: Principal) -> bool:
    if who.kind != "user" or request.method not in WRITE_METHODS:
        return True
    got = request.headers.get(CSRF_HEADER, "")
    return bool(who.csrf) and hmac.compare_digest(got.encode(), (who.csrf or "").encode())


def _outside(request: web.Request, who: Principal) -> str | None:
    """The `box` named in the path or query that is not the caller's, if any."""
    for box in (request.match_info.get("box"), request.query.get("box")):
        if box is not None and not who.sees(box):
            return box
    return None


def access_middleware() -> Middleware:
    """Identify the caller, check CSRF and the policy table and the store scope; audit every
    write and every refusal of a signed-in caller."""

    @web.middleware
    async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
        if "token" in request.query:
            return refusal(400, "token", "tokens are accepted only in the Authorization "
                                         "header, never in the URL")
        route = route_of(request)
        rule = rule_for(request.method, route or "")
        if rule.public:
            return await handler(request)
        who = await identify(request)
        if isinstance(who, web.Response):
            return who
        if who is None:
            if _wants_page(request):
                raise web.HTTPSeeOther("/login")
            return refusal(401, "Authorization", "sign in, or send a bearer token")
        if route is None:
            return await handler(request)  # 404 / 405 as aiohttp answers them
        action = f"{request.method} {route}"
        if not _csrf_ok(request, who):
            await audit(request, who.label(), "csrf_refused", request.path, False,
                        route=action)
            return refusal(403, CSRF_HEADER, "missing or wrong CSRF token; reload the page")
        if not allows(rule, who):
            await audit(request, who.label(), "denied", request.path, False, route=action)
            return refusal(403, "role", f"{who.role or 'this token'} may not {action}")
        box = _outside(request, who)
        if box is not None:
            await audit(request, who.label(), "denied", request.path, False, route=action,
                        box=box)
            return refusal(404, "box", f"no box {box!r}")
        request[PRINCIPAL] = who
        response = await handler(request)
        if request.method in WRITE_METHODS and route not in ("/logout",):
            await audit(request, who.label(), action, request.path, response.status < 400,
                        status=response.status, body=await _summary(request))
        return response

    return access


async def _summary(request: web.Request) -> str:
    """The start of a write's JSON body for the audit log, without any password."""
    try:
        raw = await request.read()  # already read by the handler: aiohttp keeps it
        value = json.loads(raw) if len(raw) < 65536 else None
    except (web.HTTPException, ValueError):
        return ""
    if isinstance(value, dict):
        value = {k: ("…" if "password" in k else v) for k, v in value.items()}
    return "" if value is None else json.dumps(value, ensure_ascii=False)[:300]
