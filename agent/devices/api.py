"""/v1/devices (found, configured, matched, suggestions), /v1/scanners and /v1/displays."""

from __future__ import annotations

from aiohttp import web

from agent.api.context import CTX, AgentContext
from agent.api.http import configured, error, json_response, read_json
from agent.devices.displays import DisplayUnavailableError
from agent.devices.runtime import DeviceServices

routes = web.RouteTableDef()


def _devices(ctx: AgentContext) -> DeviceServices:
    if ctx.devices is None:
        raise web.HTTPServiceUnavailable(reason="device services are not running")
    return ctx.devices


@routes.get("/v1/devices")
async def list_devices(request: web.Request) -> web.Response:
    """The last scan's report; `?rescan=1` scans now first."""
    devices = _devices(request.app[CTX])
    watcher = devices.watcher
    if watcher is None:
        return json_response({"found": [], "configured": [], "suggestions": [],
                              "sources": {"usb": "off", "serial": "off", "network": "off"},
                              "scanned_ms": None})
    report = watcher.report
    if report is None or request.query.get("rescan") in ("1", "true"):
        report = await watcher.rescan()
    return json_response(report.as_json())


@routes.get("/v1/scanners")
async def list_scanners(request: web.Request) -> web.Response:
    """Every configured scanner's state and the most recent scans (newest first)."""
    devices = _devices(request.app[CTX])
    return json_response({"scanners": [s.snapshot().as_json() for s in devices.scanners.values()],
                          "recent": list(devices.recent_scans)})


@routes.get("/v1/displays")
async def list_displays(request: web.Request) -> web.Response:
    """Every configured customer display and what it shows."""
    devices = _devices(request.app[CTX])
    return json_response({"displays": [d.snapshot().as_json() for d in devices.displays.values()]})


@routes.post("/v1/displays/{id}")
async def show(request: web.Request) -> web.Response:
    """Show lines, a line item, a total (with change) or nothing on a customer display."""
    writer = configured(_devices(request.app[CTX]).displays, "display", request.match_info["id"])
    body = await read_json(request)
    try:
        data, shown = await writer.show(body)
    except DisplayUnavailableError as e:
        return error(503, "display", str(e))
    return json_response({"display": writer.id, "kind": writer.cfg.kind, "shown": shown,
                          "bytes": len(data)})
