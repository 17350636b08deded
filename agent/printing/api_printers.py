"""/v1/printers (live status, queue depth, the problem in Chinese), drawer kick, self-test."""

from __future__ import annotations

from aiohttp import web

from agent.api.context import CTX, AgentContext
from agent.api.http import configured, error, job_json, json_response, read_json
from agent.health.explain import Problem
from agent.printing.supervisor import PrinterSnapshot, PrinterSupervisor
from agent.sales.audit import audit_body, note
from drivers import InvalidInput

routes = web.RouteTableDef()


def printer_json(s: PrinterSnapshot, depth: int, problem: Problem | None = None
                 ) -> dict[str, object]:
    """A printer as the API shows it; `problem` is what staff read (raw text in last_error)."""
    return {"problem": None if problem is None else {"text": problem.text, "fix": problem.fix},
            "id": s.id, "name": s.name, "profile": s.profile, "transport": s.transport,
            "state": s.state.value, "detail": list(s.detail), "connected": s.connected,
            "ready": s.ready, "queue_depth": depth, "printing": s.printing,
            "last_error": s.last_error, "since_ms": s.since_ms, "checked_ms": s.checked_ms,
            "drawer_open": s.drawer_open}


def _printer(ctx: AgentContext, printer_id: str) -> PrinterSupervisor:
    return configured(ctx.printers, "printer", printer_id)


@routes.get("/v1/printers")
async def list_printers(request: web.Request) -> web.Response:
    """Every configured printer with its live status and queue depth."""
    ctx = request.app[CTX]
    depths = await ctx.queue.depths()
    return json_response({"printers": [printer_json(s.snapshot(), depths.get(pid, 0), s.problem())
                                       for pid, s in ctx.printers.items()]})


@routes.get("/v1/printers/{id}")
async def get_printer(request: web.Request) -> web.Response:
    """One printer."""
    ctx = request.app[CTX]
    sup = _printer(ctx, request.match_info["id"])
    depths = await ctx.queue.depths()
    return json_response(printer_json(sup.snapshot(), depths.get(sup.id, 0), sup.problem()))


@routes.post("/v1/printers/{id}/drawer")
async def drawer(request: web.Request) -> web.Response:
    """Kick the cash drawer on this printer now: {"pin": 2 | 5} (body optional); outside a
    sale this needs a supervisor's approval (`approval`) when the journal's rules say so."""
    ctx = request.app[CTX]
    sup = _printer(ctx, request.match_info["id"])
    pin: object = 2
    body: object = {}
    if request.can_read_body:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidInput("body", "must be a JSON object")
        pin = body.get("pin", 2)
    if type(pin) is not int or pin not in (2, 5):
        raise InvalidInput("pin", "must be the whole number 2 or 5")
    if ctx.sales is not None:  # approval record first (403 without a valid one), audited
        await ctx.sales.gate_drawer(request, body, sup.id)
    await sup.open_drawer(pin)
    return json_response({"printer": sup.id, "drawer": "kicked", "pin": pin})


@routes.post("/v1/printers/{id}/self-test")
async def self_test(request: web.Request) -> web.Response:
    """Queue a self-test ticket on this printer (a print job like any other)."""
    ctx = request.app[CTX]
    if not ctx.accepting:
        return error(503, None, "the daemon is stopping")
    sup = _printer(ctx, request.match_info["id"])
    # Like any print job, committed together with its audit record.
    audit = audit_body(request, 202) if ctx.audit_outbox is not None else None
    result = await ctx.queue.submit(ctx.self_test_job(sup.id), audit)
    if audit is not None:
        note(request, outboxed=True)
    return json_response(job_json(result.job), 202)
