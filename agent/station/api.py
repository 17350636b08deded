"""/v1/production-tasks: enter, list and split production tasks; re-split and reprint parts."""

from __future__ import annotations

from aiohttp import web

from agent.api.context import CTX
from agent.api.http import json_response, read_json
from agent.sales import UnavailableError
from agent.sales.audit import note
from agent.station.service import TaskService
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


@routes.post("/v1/production-tasks/{task}/split")
async def post_split(request: web.Request) -> web.Response:
    """Split a task by container size or a list of quantities; one card per part."""
    svc = _service(request)
    body = await read_json(request)
    note(request, "production_task.split")
    out = await svc.split(request.match_info["task"], body)
    note(request, ref_seq=out["seq"])
    return json_response(out, 201)


@routes.post("/v1/production-tasks/{task}/parts/{part}/split")
async def post_resplit(request: web.Request) -> web.Response:
    """Re-split a part without handovers; its card is void, the new parts get cards."""
    svc = _service(request)
    body = await read_json(request)
    note(request, "production_task.resplit")
    out = await svc.resplit(request.match_info["task"], _part(request), body)
    note(request, ref_seq=out["seq"])
    return json_response(out, 201)


@routes.post("/v1/production-tasks/{task}/parts/{part}/reprint")
async def post_reprint(request: web.Request) -> web.Response:
    """Reprint a part's flow card (marked 补打) after journaling the reprint."""
    svc = _service(request)
    body = await read_json(request)
    note(request, "production_task.reprint",
         actor=body.get("clerk") if isinstance(body, dict) else None)
    out = await svc.reprint(request.match_info["task"], _part(request), body)
    note(request, ref_seq=out["seq"])
    return json_response(out, 201)
