"""WebSocket /v1/events: every job and printer state change as one JSON message."""

from __future__ import annotations

import asyncio

from aiohttp import WSCloseCode, web

from agent.api.context import CTX
from agent.api.http import dumps, error
from agent.printing.queue.service import wall_ms
from sync.web.connections import websocket_slot

routes = web.RouteTableDef()


@routes.get("/v1/events")
async def events(request: web.Request) -> web.StreamResponse:
    """Send {"type": "hello"} once subscribed, then each event; a client too slow is closed."""
    release = websocket_slot(request)
    if release is None:
        return error(503, None, "too many event subscribers; try again later")
    try:
        return await _serve(request)
    finally:
        release()


async def _serve(request: web.Request) -> web.WebSocketResponse:
    ctx = request.app[CTX]
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    sub = ctx.bus.subscribe()

    async def watch_client() -> None:
        async for _ in ws:  # incoming messages are ignored; the loop ends when the client goes
            pass
        sub.close()

    reader = asyncio.create_task(watch_client())
    try:
        await ws.send_str(dumps({"type": "hello", "box": ctx.config.box.id, "at_ms": wall_ms()}))
        async for event in sub:
            await ws.send_str(dumps(event))
        if sub.dropped:
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow; reconnect")
        else:
            await ws.close(code=WSCloseCode.GOING_AWAY)
    except ConnectionError:
        pass
    finally:
        sub.close()
        reader.cancel()
    return ws
