"""The audit trail (行为过程记录): an `audit` record for every state-changing local-API request.

Who: only an authenticated identity is the `actor` — the supervisor whose PIN or badge a handler
verified — else `anonymous`; a clerk named in the body or the `X-Storelink-Clerk` header is not
proven, so it is written into `detail` as `claimed clerk …`. What: the event (named by the
handler, else `api.<method>`), method, path and the HTTP status, and the record the request made
(`ref_seq`). From where: the peer address. GET, HEAD and OPTIONS are not recorded — reads change
nothing, and recording them would fill the journal with status polls. Requests refused by the
bearer-token check or by the edge policy (foreign Host or Origin, not JSON) never reach this
middleware, and a 404 or 405 (no such endpoint or method) is not recorded: it changed nothing
and names nothing.

The middleware also answers the sales service's refusals (403 approval, 409 conflict, 503, and
a journal closed at shutdown) in the API's error shape, so they are audited with their status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from agent.audit_outbox import AuditOutbox
from agent.journal.store import JournalClosedError, JournalStore
from agent.sales import SalesError, UnavailableError
from agent.storage_errors import disk_full
from sync.journal.schema import scrub

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNRECORDED = frozenset({404, 405})
CLERK_HEADER = "X-Storelink-Clerk"
KEY_HEADER = "Idempotency-Key"
_SEQ = "\u27e8seq\u27e9"  # where the action's seq goes once the writer knows it
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class AuditNote:
    """What a handler tells the audit middleware about its request."""

    event: str | None = None
    actor: str | None = None
    """An authenticated identity (a supervisor whose credential was checked)."""
    claimed: str | None = None
    """Who the request says it comes from, unproven."""
    ref_seq: int | None = None
    detail: str = ""
    outboxed: bool = False
    """The handler committed the audit record with its action (agent/audit_outbox.py)."""
    recorded: bool = False
    """The audit record is on the journal already, committed with the action's record."""


AUDIT = web.RequestKey("storelink_audit", AuditNote)
CURRENT: ContextVar[web.Request | None] = ContextVar("storelink_audited_request", default=None)
"""The state-changing request being handled (set by the middleware), for `action_audit`."""


class HasJournal(Protocol):
    """Where the middleware finds the journal and the audit outbox (the AgentContext)."""

    journal: JournalStore | None
    audit_outbox: AuditOutbox | None


def note(request: web.Request, event: str | None = None, *, actor: object = None,
         claimed: object = None, ref_seq: int | None = None, detail: str | None = None,
         outboxed: bool | None = None, recorded: bool | None = None) -> None:
    """Add to the request's audit note (only the values given change); `actor` only for an
    identity the handler authenticated, `claimed` for one the request merely names."""
    current = request.get(AUDIT, AuditNote())
    changes: dict[str, Any] = {}
    if event is not None:
        changes["event"] = event
    if isinstance(actor, str) and actor.strip():
        changes["actor"] = actor
    if isinstance(claimed, str) and claimed.strip():
        changes["claimed"] = claimed
    if ref_seq is not None:
        changes["ref_seq"] = ref_seq
    if detail is not None:
        changes["detail"] = detail
    if outboxed is not None:
        changes["outboxed"] = outboxed
    if recorded is not None:
        changes["recorded"] = recorded
    request[AUDIT] = replace(current, **changes)


def actor_id(value: str) -> str:
    """A journal id (1-64 characters, no spaces or controls) for whoever a request names."""
    return scrub(value.strip(), ident=True, replacement="_")[:64] or ANONYMOUS


def audit_body(request: web.Request, status: int) -> dict[str, Any]:
    """The audit record body for a request answered with `status`."""
    return _audit_body(request, request.get(AUDIT, AuditNote()), status)


def _audit_body(request: web.Request, n: AuditNote, status: int) -> dict[str, Any]:
    actor = n.actor or ANONYMOUS
    claimed = n.claimed or request.headers.get(CLERK_HEADER, "").strip()
    detail = f"{request.method} {request.path} → {status}"
    if n.detail:
        detail += f"; {n.detail}"
    if claimed and claimed != n.actor:
        detail += f"; claimed clerk {actor_id(claimed)}"
    detail += f"; from {request.remote or 'unknown'}"
    body: dict[str, Any] = {"event": n.event or f"api.{request.method.lower()}",
                            "actor": actor_id(actor), "detail": scrub(detail)[:500]}
    if n.ref_seq is not None:
        body["ref_seq"] = n.ref_seq
    return body


def action_audit(type_: str, body: Mapping[str, Any]) -> Callable[[int], dict[str, Any]] | None:
    """For the request being handled, what makes the audit record of its `type_` record `body`
    at a seq (to commit both together, answered 201); None outside an audited request or once
    the request has its audit record."""
    request = CURRENT.get()
    if request is None or request.get(AUDIT, AuditNote()).recorded:
        return None
    parts = [f"{type_} {_SEQ}"]
    if "approval_seq" in body:
        parts.append(f"approval {body['approval_seq']}")
    key = request.headers.get(KEY_HEADER)
    if key:
        parts.append(f"key {key}")
    n = replace(request.get(AUDIT, AuditNote()), detail="; ".join(parts))
    template = _audit_body(request, n, 201)  # read here, on the loop: `make` runs on the writer

    def make(seq: int) -> dict[str, Any]:
        return {**template, "ref_seq": seq,
                "detail": template["detail"].replace(_SEQ, str(seq), 1)[:500]}

    return make


def audited(seq: int) -> None:
    """The request being handled has its audit record, committed with its record at `seq`."""
    request = CURRENT.get()
    if request is not None:
        note(request, ref_seq=seq, recorded=True)


def _refusal(e: SalesError) -> web.Response:
    return web.json_response({"error": {"field": e.field, "reason": e.reason}}, status=e.status,
                             dumps=lambda v: json.dumps(v, ensure_ascii=False))


def audit_middleware(ctx: HasJournal) -> Middleware:
    """Answer SalesError refusals; append an audit record after each state-changing request."""

    @web.middleware
    async def audit(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        token = CURRENT.set(request if request.method not in SAFE_METHODS else None)
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
        except Exception as e:
            status = 507 if disk_full(e) else 500
            raise
        finally:
            CURRENT.reset(token)
            journal = ctx.journal
            outbox = ctx.audit_outbox
            if request.get(AUDIT, AuditNote()).recorded:
                pass  # committed with the action's record
            elif request.get(AUDIT, AuditNote()).outboxed and outbox is not None:
                outbox.kick()
            elif journal is not None and request.method not in SAFE_METHODS \
                    and status not in UNRECORDED:
                if outbox is not None and outbox.behind:
                    await outbox.drain()
                body = audit_body(request, status)
                try:
                    await journal.append("audit", body)
                except JournalClosedError:
                    log.warning("the journal is closed: %s %s → %d is not audited",
                                request.method, request.path, status)
                except Exception as e:
                    # The journal's disk may be full: keep the record for a later drain.
                    if outbox is None or not await outbox.keep(body):
                        log.error("could not record the audit of %s %s: %s", request.method,
                                  request.path, e)

    return audit
