"""GET /v1/pairing: the box's pairing state for the status page (the code only while it waits)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agent.api.context import CTX
from agent.pairing.state import adopted_store

routes = web.RouteTableDef()


@routes.get("/v1/pairing")
async def pairing_state(request: web.Request) -> web.Response:
    """`waiting` with the code, `adopted` with the store, or `none` (no `[pairing]`)."""
    ctx = request.app[CTX]
    if ctx.pairing_view is not None:
        return web.json_response(ctx.pairing_view().json())
    store = await asyncio.to_thread(adopted_store, ctx.config.box.state_dir)
    state = "adopted" if store is not None else "none"
    return web.json_response({"state": state, "code": "", "box": ctx.config.box.id,
                              "store": store or "", "hq_url": "", "expires_ms": 0, "error": ""})
