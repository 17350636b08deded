"""/v1/print-jobs: submit (committed before 202), look up, list, cancel, resolve, preview."""

from __future__ import annotations

import asyncio
from typing import cast

from aiohttp import web

from agent.api.context import AgentContext
from agent.api.http import error, job_json, json_response, read_json
from agent.api.keys import CTX
from agent.jobs import parse_job, render_job
from agent.preview import preview_png
from agent.queue.lifecycle import JobState
from agent.queue.service import Resolution
from agent.queue.store import JobNotFoundError
from drivers import InvalidInput
from validation import Schema, ValidationError
from validation.decode import convert

routes = web.RouteTableDef()
MAX_LIMIT = 500


class ResolveRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/print-jobs/{id}/resolve."""

    action: Resolution


def _known_printer(ctx: AgentContext, printer_id: str) -> None:
    if ctx.config.printer(printer_id) is None:
        known = ", ".join(p.id for p in ctx.config.printers) or "none configured"
        raise InvalidInput("printer", f"unknown printer {printer_id!r} (known: {known})")


@routes.post("/v1/print-jobs")
async def submit(request: web.Request) -> web.Response:
    """Validate the job (content rendered once), commit it, answer 202 — or the stored state."""
    ctx = request.app[CTX]
    if not ctx.accepting:
        return error(503, None, "the daemon is stopping; submit the job again later")
    job = parse_job(await read_json(request))
    _known_printer(ctx, job.printer)
    printer = ctx.config.printer(job.printer)
    assert printer is not None
    # Bad content gets its 400 here and is never stored.
    await asyncio.to_thread(render_job, job, printer.profile)
    result = await ctx.queue.submit(job)
    return json_response(job_json(result.job), 202 if result.created else 200)


def _states(raw: str) -> list[JobState]:
    out = []
    for s in filter(None, raw.split(",")):
        try:
            out.append(JobState(s))
        except ValueError:
            raise InvalidInput("state", f"unknown state {s!r} (known: "
                                        f"{', '.join(x.value for x in JobState)})") from None
    return out


def _int_param(request: web.Request, name: str, default: int | None, lo: int,
               hi: int) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise InvalidInput(name, "must be an integer") from None
    if not lo <= v <= hi:
        raise InvalidInput(name, f"must be {lo}-{hi}")
    return v


@routes.get("/v1/print-jobs")
async def list_jobs(request: web.Request) -> web.Response:
    """Jobs newest first; filters `state` (comma-separated), `printer`; paging `limit`, `before`."""
    ctx = request.app[CTX]
    states = _states(request.query.get("state", ""))
    printer = request.query.get("printer") or None
    limit = cast(int, _int_param(request, "limit", 50, 1, MAX_LIMIT))
    before = _int_param(request, "before", None, 1, 2**62)
    jobs = await ctx.queue.list_jobs(states, printer, limit, before)
    return json_response({"jobs": [job_json(j) for j in jobs],
                          "next_before": jobs[-1].seq if len(jobs) == limit else None})


@routes.get("/v1/print-jobs/{id}")
async def get_job(request: web.Request) -> web.Response:
    """One job's current state."""
    job_id = request.match_info["id"]
    job = await request.app[CTX].queue.get(job_id)
    if job is None:
        raise JobNotFoundError(job_id)
    return json_response(job_json(job))


@routes.post("/v1/print-jobs/{id}/cancel")
async def cancel(request: web.Request) -> web.Response:
    """Cancel a queued job (409 once it is printing or done)."""
    job = await request.app[CTX].queue.cancel(request.match_info["id"])
    return json_response(job_json(job))


@routes.post("/v1/print-jobs/{id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    """A person's decision on an unknown or failed job: {"action": "reprint" | "done"}."""
    try:
        body = convert(await read_json(request), ResolveRequest, whole="body")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    job = await request.app[CTX].queue.resolve(request.match_info["id"], body.action)
    return json_response(job_json(job))


@routes.get("/v1/print-jobs/{id}/preview.png")
async def preview(request: web.Request) -> web.Response:
    """What the job looks like on paper (one copy), rendered from the bytes it prints."""
    ctx = request.app[CTX]
    job_id = request.match_info["id"]
    png = ctx.previews.get(job_id)
    if png is None:
        job = await ctx.queue.get(job_id)
        body = await ctx.queue.store.body(job_id)
        if job is None or body is None:
            raise JobNotFoundError(job_id)
        printer = ctx.config.printer(job.printer)
        if printer is None:
            return error(404, "printer", f"printer {job.printer!r} is no longer configured")
        profile = printer.profile

        def draw() -> bytes:
            return preview_png(render_job(parse_job(body), profile).data, profile)

        png = await asyncio.to_thread(draw)
        ctx.remember_preview(job_id, png)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})
