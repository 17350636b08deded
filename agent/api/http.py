"""HTTP plumbing of the local API: JSON responses, JSON errors and the token or sign-in check."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from agent.api.page_sessions import COOKIE, CSRF_HEADER, PageSessions
from agent.printing.queue.lifecycle import IllegalTransitionError, Job
from agent.printing.queue.store import (
    JobConflictError,
    JobNotFoundError,
    QueueFullError,
    StoreError,
)
from agent.printing.supervisor import PrinterUnavailableError
from agent.storage_errors import disk_full
from drivers import InvalidInput
from drivers.print_budget import JobTooLarge
from sync.bounded_json import JsonLimitError, loads_bounded

log = logging.getLogger(__name__)

RETRY_AFTER_S = 10
"""What a 429 for a full print queue suggests (a receipt prints in a few seconds)."""
DISK_FULL = "the box's disk is full; nothing was changed — free space (old logs, exports) " \
            "and try again"

def dumps(value: object) -> str:
    """JSON with Chinese left readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_response(value: object, status: int = 200) -> web.Response:
    """A JSON response (UTF-8)."""
    return web.json_response(value, status=status, dumps=dumps)


T = TypeVar("T")


def configured(items: Mapping[str, T], what: str, id_: str) -> T:
    """The configured `what` (printer, scale, display) named `id_`, else 404 "no {what} {id_!r}"."""
    item = items.get(id_)
    if item is None:
        raise web.HTTPNotFound(reason=f"no {what} {id_!r}")
    return item


def error(status: int, field: str | None, reason: str, **extra: Any) -> web.Response:
    """The error shape of every endpoint: {"error": {"field": …, "reason": …}}."""
    return json_response({"error": {"field": field, "reason": reason, **extra}}, status)


def job_json(job: Job) -> dict[str, object]:
    """A job as the API shows it."""
    return {"id": job.id, "printer": job.printer, "state": job.state.value,
            "reason": job.reason.value if job.reason else None, "version": job.version,
            "copies": job.copies, "copies_done": job.copies_done, "label": job.label,
            "created_ms": job.created_ms, "updated_ms": job.updated_ms,
            "expires_at_ms": job.expires_at_ms, "seq": job.seq}


async def read_json(request: web.Request) -> object:
    """The request body as JSON (nesting and number length bounded); InvalidInput naming the
    field otherwise."""
    raw = await request.read()
    try:
        return loads_bounded(raw)
    except JsonLimitError as e:
        raise InvalidInput(e.field, e.reason) from None


def failure_status(e: BaseException) -> int:
    """The status of an unexpected failure: 507 for a full disk, else 500."""
    return 507 if disk_full(e) else 500


@web.middleware
async def last_resort_middleware(request: web.Request, handler: Handler
                                 ) -> web.StreamResponse:
    """Whatever still escapes is answered in JSON: 507 for a full disk, else 500 (logged)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as e:
        if disk_full(e):
            log.error("disk full on %s %s: %s", request.method, request.path, e)
            return error(507, None, DISK_FULL)
        log.exception("unexpected failure on %s %s", request.method, request.path)
        return error(500, None, "internal error; nothing is known to have changed — see the "
                                "box's log")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map the agent's exceptions to JSON errors; nothing leaks as an HTML page."""
    try:
        return await handler(request)
    except JobTooLarge as e:
        return error(413, e.field, e.reason)
    except InvalidInput as e:
        return error(400, e.field, e.reason)
    except JobNotFoundError as e:
        return error(404, "id", f"no job {e.job_id!r}")
    except JobConflictError as e:
        return error(409, "id", "a job with this id and a different body was already accepted",
                     job=job_json(e.job))
    except IllegalTransitionError as e:
        return error(409, "state", f"the job is {e.job.state.value}; cannot {e.action.value}",
                     job=job_json(e.job))
    except PrinterUnavailableError as e:
        return error(503, "printer", str(e), state=e.state)
    except QueueFullError as e:
        resp = error(429, "printer", f"{e}; try again later", depth=e.depth)
        resp.headers["Retry-After"] = str(RETRY_AFTER_S)
        return resp
    except StoreError as e:
        log.error("store error on %s %s: %s", request.method, request.path, e)
        if disk_full(e):
            return error(507, None, DISK_FULL)
        return error(500, None, "the job store failed; nothing was changed")
    except web.HTTPException as e:
        if e.empty_body or e.status < 400:
            raise
        return error(e.status, None, e.reason)


PAGE_SESSION: web.RequestKey[tuple[str, int]] = web.RequestKey("page_session")
"""The signed-in page's (CSRF token, expiry ms), set by the token check."""
PUBLIC = frozenset({("GET", "/login"), ("HEAD", "/login"), ("POST", "/v1/session")})
"""What a browser may reach before signing in."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
URL_TOKEN = ("a token in the URL is refused (it stays in browser histories, proxy logs and "
             "Referer headers): send `Authorization: Bearer …`, or sign in at /login")


def auth_middleware(sessions: PageSessions, clock: Callable[[], int]) -> Middleware:
    """Every request must carry `Authorization: Bearer TOKEN` or a signed-in page's session
    cookie (with its `X-CSRF-Token` on writes); a `token` query parameter is refused (400) and
    a page load without either is sent to /login."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if "token" in request.query:
            return error(400, "token", URL_TOKEN)
        if (request.method, request.path) in PUBLIC:
            return await handler(request)
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer " and sessions.token_ok(header[7:].strip()):
            return await handler(request)
        cookie = request.cookies.get(COOKIE)
        found = sessions.check(cookie, clock()) if cookie and not header else None
        if found is not None:
            given = request.headers.get(CSRF_HEADER, "")
            if request.method not in SAFE_METHODS and not hmac.compare_digest(
                    given.encode(), found[0].encode()):
                return error(403, CSRF_HEADER, "a signed-in page must send its CSRF token "
                                               "(GET /v1/session) with every change")
            request[PAGE_SESSION] = found
            return await handler(request)
        if (request.method in ("GET", "HEAD") and not request.path.startswith("/v1/")
                and "text/html" in request.headers.get("Accept", "")):
            raise web.HTTPSeeOther("/login?next=" + quote(request.path_qs, safe="/"))
        resp = error(401, "Authorization", "a valid bearer token or a signed-in page is "
                                           "required (sign in at /login)")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="storelink"'
        return resp

    return check
