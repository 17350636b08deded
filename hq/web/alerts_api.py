"""HQ's alerts over HTTP: GET /v1/alerts (open and recent, as the caller may see them) and
POST /v1/alerts/{id}/ack (who acknowledged, in the alert and the audit log)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from hq.alert_config import KIND_NAMES, KINDS, role_acks, role_sees
from hq.alerts.messages import alert_json
from hq.people.policy import Principal
from hq.store.alerts import AlertRow
from hq.web.access import ACCESS, audit, principal
from sync.bounded_json import JsonLimitError, loads_bounded

MAX_ALERTS = 500
RECENT_DAYS = 7
MAX_DAYS = 90
ALERT_ID_DIGITS = 18


def _error(status: int, field: str | None, reason: str) -> web.Response:
    return web.json_response({"error": {"field": field, "reason": reason}}, status=status,
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def sees(who: Principal, a: AlertRow) -> bool:
    """Whether the caller sees an alert: tokens every one (their scope let them in), users by
    role and kind, store-scoped users only their stores' boxes."""
    if who.kind != "user":
        return who.is_admin or "alerts:read" in who.scopes
    if not role_sees(who.role, a.kind):
        return False
    return who.boxes is None or (bool(a.box) and who.sees(a.box))


def may_ack(who: Principal, a: AlertRow) -> bool:
    """Whether the caller may acknowledge an alert it sees."""
    return who.is_admin or (who.kind == "user" and role_acks(who.role, a.kind))


def _view(who: Principal, a: AlertRow) -> dict[str, Any]:
    return {**alert_json(a), "can_ack": a.acked_ms is None and may_ack(who, a)}


async def get_alerts(request: web.Request) -> web.Response:
    """GET /v1/alerts[?state=open|recent&days=N&kind=K]: open alerts, or (recent, default) open
    ones and those cleared in the last `days` (7), newest first; 400 names a bad parameter."""
    for name in request.query:
        if name not in ("state", "days", "kind"):
            return _error(400, name, "unknown query parameter (state, days, kind)")
    state = request.query.get("state", "recent")
    if state not in ("open", "recent"):
        return _error(400, "state", "must be open or recent")
    days_text = request.query.get("days", str(RECENT_DAYS))
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        return _error(400, "days", f"must be a whole number of days 1-{MAX_DAYS}")
    kind = request.query.get("kind")
    if kind is not None and kind not in KINDS:
        return _error(400, "kind", "unknown kind; kinds are: " + ", ".join(KINDS))
    a = request.app[ACCESS]
    who = principal(request)
    now = a.clock()
    since = now + 1 if state == "open" else now - int(days_text) * 86_400_000
    rows = await asyncio.to_thread(a.store.alerts_recent, since, MAX_ALERTS)
    shown = [_view(who, r) for r in rows if sees(who, r) and (kind is None or r.kind == kind)]
    return _json({"alerts": shown, "kinds": KIND_NAMES, "now_ms": now})


async def post_ack(request: web.Request) -> web.Response:
    """POST /v1/alerts/{id}/ack [{}]: record who acknowledged; 404 for an alert the caller does
    not see, 403 for a kind its role does not acknowledge, 409 if acknowledged already."""
    text = request.match_info["id"]
    if not text.isdigit() or len(text) > ALERT_ID_DIGITS:
        return _error(400, "id", "must be an alert id (digits)")
    raw = await request.read()
    if raw.strip():
        try:
            body = loads_bounded(raw)
        except JsonLimitError as e:
            return _error(400, e.field, e.reason)
        if not isinstance(body, dict):
            return _error(400, "body", "must be a JSON object")
        for key in body:
            return _error(400, str(key), "unknown field (the body is an empty object)")
    a = request.app[ACCESS]
    who = principal(request)
    found = await asyncio.to_thread(a.store.alert, int(text))
    if found is None or not sees(who, found):
        return _error(404, "id", f"no alert {text}")
    if not may_ack(who, found):
        return _error(403, "role", f"{who.role or 'this token'} may not acknowledge "
                                   f"{KIND_NAMES.get(found.kind, found.kind)} alerts")
    if found.acked_ms is not None:
        return _error(409, "id", f"already acknowledged by {found.acked_by}")
    now = a.clock()
    if not await asyncio.to_thread(a.store.alert_ack, found.id, who.label(), now):
        latest = await asyncio.to_thread(a.store.alert, found.id)
        return _error(409, "id", "already acknowledged by "
                                 f"{latest.acked_by if latest is not None else '?'}")
    await audit(request, who.label(), "alert_ack", f"alert:{found.id}", True,
                kind=found.kind, subject=found.subject)
    acked = await asyncio.to_thread(a.store.alert, found.id)
    assert acked is not None
    return _json({"alert": _view(who, acked)})


def add_routes(app: web.Application) -> None:
    """Register the alert routes (their policy lines are in hq.people.policy)."""
    app.router.add_get("/v1/alerts", get_alerts)
    app.router.add_post(r"/v1/alerts/{id}/ack", post_ack)
