"""HTTP plumbing of the local API: JSON responses, JSON errors and the bearer-token check."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from agent.printers import PrinterUnavailableError
from agent.queue.lifecycle import IllegalTransitionError, Job
from agent.queue.store import JobConflictError, JobNotFoundError, StoreError
from drivers import InvalidInput
from validation import ValidationError
from validation.decode import decode_json

log = logging.getLogger(__name__)




def dumps(value: object) -> str:
    """JSON with Chinese left readable."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_response(value: object, status: int = 200) -> web.Response:
    """A JSON response (UTF-8)."""
    return web.json_response(value, status=status, dumps=dumps)


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
    """The request body as JSON; InvalidInput("body") if it is not, or a number in it is out
    of range (named by its path), or it is nested too deeply."""
    try:
        return decode_json(await request.read(), Any, whole="body")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map the agent's exceptions to JSON errors; nothing leaks as an HTML page."""
    try:
        return await handler(request)
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
    except StoreError as e:
        log.error("store error on %s %s: %s", request.method, request.path, e)
        return error(500, None, "the job store failed; nothing was changed")
    except web.HTTPException as e:
        if e.empty_body or e.status < 400:
            raise
        return error(e.status, None, e.reason)


def auth_middleware(token: str) -> Middleware:
    """Every request must carry `Authorization: Bearer TOKEN` (or `?token=` for browsers)."""
    expected = token.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        given = header[7:] if header[:7].lower() == "bearer " else request.query.get("token", "")
        if not hmac.compare_digest(given.strip().encode(), expected):
            resp = error(401, "Authorization", "a valid bearer token is required")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="storelink"'
            return resp
        return await handler(request)

    return check
