"""/v1/print-jobs: submit (committed before 202), look up, list, cancel, resolve, preview."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiohttp import web

from agent.api.context import CTX, AgentContext
from agent.api.http import error, job_json, json_response, read_json
from agent.config import PrinterConfig
from agent.printing.jobs import parse_job, render_job
from agent.printing.queue.lifecycle import JobState
from agent.printing.queue.service import Resolution
from agent.printing.queue.store import JobNotFoundError
from agent.sales.audit import audit_body, note
from agent.sales.drawer import admit_local, job_kick
from drivers import DriverError, InvalidInput
from validation import Schema, ValidationError
from validation.decode import convert

routes = web.RouteTableDef()


class ResolveRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/print-jobs/{id}/resolve; a reprint that kicks the drawer carries its approval."""

    action: Resolution
    approval: Any = None
    reason: Any = None
    clerk: Any = None

MAX_LIMIT = 500
GATE_FIELDS = ("approval", "reason", "clerk")
"""Request fields beside the job: the drawer approval (docs/local-api.md, "Cash drawer")."""


def _known_printer(ctx: AgentContext, printer_id: str) -> PrinterConfig:
    printer = ctx.config.printer(printer_id)
    if printer is None:
        known = ", ".join(p.id for p in ctx.config.printers) or "none configured"
        raise InvalidInput("printer", f"unknown printer {printer_id!r} (known: {known})")
    return printer


@routes.post("/v1/print-jobs")
async def submit(request: web.Request) -> web.Response:
    """Validate the job (content rendered once), commit it, answer 202 — or the stored state.

    A job that would open the cash drawer passes the drawer's gate first (403 without an
    approval where one is needed)."""
    ctx = request.app[CTX]
    if not ctx.accepting:
        return error(503, None, "the daemon is stopping; submit the job again later")
    body = await read_json(request)
    # The approval for a job that opens the cash drawer is not part of the job (never stored).
    gate = {k: body.pop(k) for k in GATE_FIELDS if k in body} if isinstance(body, dict) else {}
    job = parse_job(body)
    printer = _known_printer(ctx, job.printer)
    # Bad content gets its 400 here and is never stored.
    ctx.queue.coming(job.printer)
    encoded = await asyncio.to_thread(render_job, job, printer.profile)
    kick = await asyncio.to_thread(job_kick, job, printer.profile, encoded.data)
    if kick is None:
        for k in gate:
            raise InvalidInput(k, "only goes with a job that opens the cash drawer")
    elif await ctx.queue.get(job.id) is None:  # a repeat adds no kick: the queue keeps one job
        field, what = kick
        await admit_local(ctx.sales, request, gate, job.printer, f"print job {job.id} opens "
                          f"the cash drawer ({what})", field)
    # A new job and its audit record are committed together (agent/audit_outbox.py).
    audit = audit_body(request, 202) if ctx.audit_outbox is not None else None
    result = await ctx.queue.submit(job, audit, rendered=(printer.profile, encoded))
    if result.created and audit is not None:
        note(request, outboxed=True)
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
    """A person's decision on an unknown or failed job: {"action": "reprint" | "done"}; a
    reprint that opens the cash drawer passes the drawer's gate again (`approval` beside)."""
    body = await read_json(request)
    try:
        decision = convert(body, ResolveRequest, whole="body")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    ctx = request.app[CTX]
    job_id = request.match_info["id"]
    if decision.action == "reprint" and isinstance(body, dict):
        await _gate_reprint(ctx, request, job_id, body)
    job = await ctx.queue.resolve(job_id, decision.action)
    return json_response(job_json(job))


async def _gate_reprint(ctx: AgentContext, request: web.Request, job_id: str,
                        body: dict[str, object]) -> None:
    stored = await ctx.queue.store.body(job_id)
    try:
        job = parse_job(stored) if stored is not None else None
    except DriverError:
        job = None
    printer = ctx.config.printer(job.printer) if job is not None else None
    if job is None or printer is None:
        return  # the queue answers 404 / the job fails at its printer, as without a drawer
    profile = printer.profile

    def kick() -> tuple[str, str] | None:
        try:
            return job_kick(job, profile, render_job(job, profile).data)
        except DriverError:
            return None

    found = await asyncio.to_thread(kick)
    if found is not None:
        await admit_local(ctx.sales, request, body, job.printer, f"a reprint of print job "
                          f"{job.id} opens the cash drawer ({found[1]})")


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
            # The renderer (and its fonts) loads with the first preview, not at start.
            from agent.printing.preview import preview_png

            return preview_png(render_job(parse_job(body), profile).data, profile)

        png = await asyncio.to_thread(draw)
        ctx.remember_preview(job_id, png)
    return web.Response(body=png, content_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})
