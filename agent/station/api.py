"""/v1/production-tasks: enter, list and split production tasks; re-split and reprint parts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from agent.api.context import CTX
from agent.api.http import json_response, read_json
from agent.printing.jobs import is_label_printer, parse_job
from agent.sales import UnavailableError
from agent.sales.audit import note
from agent.station import UnknownTaskError
from agent.station.runner import StationRunner
from agent.station.service import TaskService, wall_ms
from agent.station.sheet import sheet_data
from drivers import InvalidInput

routes = web.RouteTableDef()


def _service(request: web.Request) -> TaskService:
    tasks = request.app[CTX].production
    if tasks is None:
        raise UnavailableError("journal", "the journal is disabled (journal.enabled = false)")
    return tasks


def _part(request: web.Request) -> int:
    raw = request.match_info["part"]
    if not raw.isdigit() or len(raw) > 4 or int(raw) < 1:
        raise InvalidInput("part", "must be a part number 1-9999")
    return int(raw)


@routes.post("/v1/production-tasks")
async def post_task(request: web.Request) -> web.Response:
    """Record a production task (201; the same task again answers 200); `split_size` splits it."""
    svc = _service(request)
    body = await read_json(request)
    note(request, "production_task.create")
    task, created, split = await svc.add(body)
    note(request, ref_seq=task.seq, detail=f"task {task.body['task']}")
    answer = {"task": (split or {}).get("task", task.json()), "created": created}
    if split is not None:
        answer["split"] = {"seq": split["seq"], "cards": split["cards"]}
    return json_response(answer, 201 if created else 200)


@routes.get("/v1/production-tasks")
async def list_tasks(request: web.Request) -> web.Response:
    """Every task on the box with its parts."""
    ws = await _service(request).catch_up()
    return json_response({"tasks": [t.json() for t in ws.tasks.values()]})


@routes.get("/v1/production-tasks/{task}")
async def get_task(request: web.Request) -> web.Response:
    """One task with its parts (404 if unknown)."""
    ws = await _service(request).catch_up()
    return json_response(ws.task(request.match_info["task"]).json())


async def _journaled(request: web.Request, event: str,
                     run: Callable[[TaskService, object], Awaitable[dict[str, Any]]],
                     *, by_clerk: bool = False) -> web.Response:
    """Note `event` (the body's clerk as actor when `by_clerk`), run it on the body, answer 201
    with the record it journaled."""
    svc = _service(request)
    body = await read_json(request)
    note(request, event, actor=body.get("clerk") if by_clerk and isinstance(body, dict) else None)
    out = await run(svc, body)
    note(request, ref_seq=out["seq"])
    return json_response(out, 201)


@routes.post("/v1/production-tasks/{task}/split")
async def post_split(request: web.Request) -> web.Response:
    """Split a task by container size or a list of quantities; one card per part."""
    return await _journaled(request, "production_task.split",
                            lambda svc, body: svc.split(request.match_info["task"], body))


@routes.post("/v1/production-tasks/{task}/parts/{part}/split")
async def post_resplit(request: web.Request) -> web.Response:
    """Re-split a part without handovers; its card is void, the new parts get cards."""
    return await _journaled(request, "production_task.resplit", lambda svc, body: svc.resplit(
        request.match_info["task"], _part(request), body))


@routes.post("/v1/production-tasks/{task}/parts/{part}/reprint")
async def post_reprint(request: web.Request) -> web.Response:
    """Reprint a part's flow card (marked 补打) after journaling the reprint."""
    return await _journaled(request, "production_task.reprint", lambda svc, body: svc.reprint(
        request.match_info["task"], _part(request), body), by_clerk=True)


def _station(request: web.Request) -> StationRunner:
    runner = request.app[CTX].stations.get(request.match_info["station"])
    if runner is None:
        raise UnknownTaskError("station", f"no station {request.match_info['station']!r}")
    return runner


@routes.get("/v1/stations")
async def list_stations(request: web.Request) -> web.Response:
    """Every configured station with its steps and its last result."""
    return json_response({"stations": [_station_json(r) for r in
                                       request.app[CTX].stations.values()]})


@routes.get("/v1/stations/{station}")
async def get_station(request: web.Request) -> web.Response:
    """One station: its steps and its last result."""
    return json_response(_station_json(_station(request)))


@routes.post("/v1/stations/{station}/scan")
async def post_scan(request: web.Request) -> web.Response:
    """A code typed at the station (its page's keyboard wedge): handled like a scan."""
    runner = _station(request)
    body = await read_json(request)
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not 1 <= len(code.strip()) <= 200:
        raise InvalidInput("code", "must be the scanned text (1-200 characters)")
    note(request, "station.scan")
    out = await runner.typed(code)
    if isinstance(out.get("seq"), int):
        note(request, ref_seq=out["seq"])
    note(request, detail=f"{runner.cfg.id}: {out['result']}")
    return json_response(out)


def _station_json(r: StationRunner) -> dict[str, object]:
    c = r.cfg
    return {"id": c.id, "name": c.name, "scanner": c.scanner, "steps": list(c.steps),
            "label_printer": c.label_printer, "display": c.display, "window_s": c.window_s,
            "undo_window_s": c.undo_window_s, "defect_reasons": list(c.defect_reasons),
            "beeper": c.beeper, "last": r.last_result, "results": r.results}


@lru_cache(maxsize=1)
def station_html() -> str:
    """The station page (agent/static/station.html); it reads the station from the API."""
    return resources.files("agent").joinpath("static/station.html").read_text(encoding="utf-8")


@routes.get("/station/{station}")
async def station_page(request: web.Request) -> web.Response:
    """The full-screen station page: results live over /v1/events, keyboard-wedge input."""
    _station(request)
    return web.Response(text=station_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


@routes.post("/v1/stations/{station}/defect-sheet")
async def post_defect_sheet(request: web.Request) -> web.Response:
    """Print the station's code sheet (defect reasons, quantities 1-20, undo) on a receipt
    printer: the body's `printer`, else the first receipt printer configured."""
    ctx = request.app[CTX]
    runner = _station(request)
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) - {"printer"}:
        raise InvalidInput("body", "must be an object with at most `printer`")
    name = body.get("printer")
    printer = (ctx.config.printer(name) if isinstance(name, str) else
               next((p for p in ctx.config.printers if not is_label_printer(p.profile)), None))
    if printer is None or is_label_printer(printer.profile):
        raise InvalidInput("printer", "must be a configured receipt printer (ESC/POS)")
    note(request, "station.defect_sheet")
    job = parse_job({"id": f"sheet-{runner.cfg.id}-{wall_ms()}", "printer": printer.id,
                     "template": "defect_sheet", "data": sheet_data(runner.cfg)})
    submitted = await ctx.queue.submit(job)
    return json_response({"job": job.id, "printer": printer.id,
                          "state": submitted.job.state.value}, 201)
