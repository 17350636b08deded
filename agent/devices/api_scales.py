"""/v1/scales: the scales' states, a weight in grams, tare and zero."""

from __future__ import annotations

from aiohttp import web

from agent.api.context import CTX
from agent.api.http import configured, error, json_response
from agent.devices.api import _devices
from agent.devices.scales import (
    ScaleSupervisor,
    ScaleUnsupportedError,
    check_timeout_ms,
)
from drivers import InvalidInput
from drivers.transports.base import TransportError

routes = web.RouteTableDef()


def _scale(request: web.Request) -> ScaleSupervisor:
    return configured(_devices(request.app[CTX]).scales, "scale", request.match_info["id"])


@routes.get("/v1/scales")
async def list_scales(request: web.Request) -> web.Response:
    """Every configured scale: online or offline, its latest reading."""
    devices = _devices(request.app[CTX])
    return json_response({"scales": [s.snapshot().as_json() for s in devices.scales.values()]})


@routes.get("/v1/scales/{id}/weight")
async def weight(request: web.Request) -> web.Response:
    """The weight in grams: `stable` (default true) waits up to `timeout_ms` for a stable one."""
    scale = _scale(request)
    stable_raw = request.query.get("stable", "true")
    if stable_raw not in ("true", "false", "1", "0"):
        raise InvalidInput("stable", "must be true or false")
    answer = await scale.weight(stable_raw in ("true", "1"),
                                check_timeout_ms(request.query.get("timeout_ms")))
    return json_response(answer.body, answer.http)


async def _command(request: web.Request, which: str) -> web.Response:
    scale = _scale(request)
    try:
        scale.command("tare" if which == "tare" else "zero")
    except ScaleUnsupportedError as e:
        return error(409, "scale", str(e))
    except TransportError as e:
        return error(503, "scale", str(e))
    return json_response({"scale": scale.id, "sent": which}, 202)


@routes.post("/v1/scales/{id}/tare")
async def tare(request: web.Request) -> web.Response:
    """Send the protocol's tare command (202 sent; 409 when the protocol has none)."""
    return await _command(request, "tare")


@routes.post("/v1/scales/{id}/zero")
async def zero(request: web.Request) -> web.Response:
    """Send the protocol's zero command (202 sent; 409 when the protocol has none)."""
    return await _command(request, "zero")
