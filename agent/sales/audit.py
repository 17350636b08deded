"""The audit trail (行为过程记录): an `audit` record for every state-changing local-API request.

Who: the clerk or supervisor the handler found in the body, else the `X-Storelink-Clerk`
header, else `anonymous`. What: the event (named by the handler, else `api.<method>`), method,
path and the HTTP status, and the record the request made (`ref_seq`). From where: the peer
address. GET, HEAD and OPTIONS are not recorded — reads change nothing, and recording them
would fill the journal with status polls. Requests refused by the bearer-token check never
reach this middleware (an unauthenticated client cannot fill the journal either).

The middleware also answers the sales service's refusals (403 approval, 409 conflict, 503, and
a journal closed at shutdown) in the API's error shape, so they are audited with their status.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from agent.journal.store import JournalClosedError, JournalStore
from agent.sales import SalesError, UnavailableError
from sync.journal.schema import scrub

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CLERK_HEADER = "X-Storelink-Clerk"
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class AuditNote:
    """What a handler tells the audit middleware about its request."""

    event: str | None = None
    actor: str | None = None
    ref_seq: int | None = None
    detail: str = ""


AUDIT = web.RequestKey("storelink_audit", AuditNote)


class HasJournal(Protocol):
    """Where the middleware finds the journal (the AgentContext)."""

    journal: JournalStore | None


def note(request: web.Request, event: str | None = None, *, actor: object = None,
         ref_seq: int | None = None, detail: str | None = None) -> None:
    """Add to the request's audit note (only the values given change)."""
    current = request.get(AUDIT, AuditNote())
    changes: dict[str, Any] = {}
    if event is not None:
        changes["event"] = event
    if isinstance(actor, str) and actor.strip():
        changes["actor"] = actor
    if ref_seq is not None:
        changes["ref_seq"] = ref_seq
    if detail is not None:
        changes["detail"] = detail
    request[AUDIT] = replace(current, **changes)


def actor_id(value: str) -> str:
    """A journal id (1-64 characters, no spaces or controls) for whoever a request names."""
    return scrub(value.strip(), ident=True, replacement="_")[:64] or ANONYMOUS


def audit_body(request: web.Request, status: int) -> dict[str, Any]:
    """The audit record body for a request answered with `status`."""
    n = request.get(AUDIT, AuditNote())
    actor = n.actor or request.headers.get(CLERK_HEADER, "") or ANONYMOUS
    detail = f"{request.method} {request.path} → {status}"
    if n.detail:
        detail += f"; {n.detail}"
    detail += f"; from {request.remote or 'unknown'}"
    body: dict[str, Any] = {"event": n.event or f"api.{request.method.lower()}",
                            "actor": actor_id(actor), "detail": scrub(detail)[:500]}
    if n.ref_seq is not None:
        body["ref_seq"] = n.ref_seq
    return body


def _refusal(e: SalesError) -> web.Response:
    return web.json_response({"error": {"field": e.field, "reason": e.reason}}, status=e.status,
                             dumps=lambda v: json.dumps(v, ensure_ascii=False))


def audit_middleware(ctx: HasJournal) -> Middleware:
    """Answer SalesError refusals; append an audit record after each state-changing request."""

    @web.middleware
    async def audit(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            try:
                response = await handler(request)
            except SalesError as e:
                response = _refusal(e)
            except JournalClosedError as e:
                response = _refusal(UnavailableError("journal", str(e)))
            status = response.status
            return response
        except web.HTTPException as e:
            status = e.status
            raise
        finally:
            journal = ctx.journal
            if journal is not None and request.method not in SAFE_METHODS:
                try:
                    await journal.append("audit", audit_body(request, status))
                except JournalClosedError:
                    log.warning("the journal is closed: %s %s → %d is not audited",
                                request.method, request.path, status)
                except Exception:
                    log.exception("could not record the audit of %s %s", request.method,
                                  request.path)

    return audit
