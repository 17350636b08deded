"""The box's local HTTP API (aiohttp): print jobs, printers, health, events, the status page."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from aiohttp import web
from aiohttp.typedefs import Middleware

from agent.api import events, sign_in
from agent.api.context import CTX, AgentContext
from agent.api.http import auth_middleware, errors_middleware, last_resort_middleware
from agent.api.page_sessions import PageSessions
from agent.devices import api as devices_api
from agent.devices import api_scales
from agent.devices.network import box_host_name
from agent.health import api as health_api
from agent.journal.clock import wall_ms
from agent.metrics import api as metrics_api
from agent.pairing import api as pairing_api
from agent.printing import api_jobs, api_printers
from agent.sales import api as sales_api
from agent.sales import rotation
from agent.sales.audit import audit_middleware
from agent.station import api as station_api
from sync.static import inline_shared
from sync.web.connections import GUARD, ConnectionGuard, busy_middleware
from sync.web.edge import EdgePolicy, edge_middleware

MAX_BODY = 8 * 1024 * 1024
"""Largest request body: a 4 MiB raw job is about 5.6 MiB of base64."""

__all__ = ["CTX", "AgentContext", "make_app"]

page_routes = web.RouteTableDef()


@lru_cache(maxsize=1)
def page_html() -> str:
    """The status page for store staff (agent/static/status.html with sync/static/ui.js
    inlined); it reads everything else from the API."""
    return inline_shared(resources.files("agent").joinpath("static/status.html")
                         .read_text(encoding="utf-8"))


@page_routes.get("/")
async def status_page(request: web.Request) -> web.Response:
    """Serve the page; it refreshes itself from /v1/printers and /v1/print-jobs."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def make_app(ctx: AgentContext) -> web.Application:
    """The application for `ctx`; requests need the bearer token when one is configured."""
    api = ctx.config.api
    # Outermost first: JSON for any failure, connection bookkeeping, the browser edge and the
    # token check (refusals there are not audited), then the audit of what passed.
    middlewares: list[Middleware] = [
        last_resort_middleware, busy_middleware,
        # The name the box advertises over mDNS is its own, like its addresses.
        edge_middleware(EdgePolicy.of((*api.allowed_hosts, box_host_name(ctx.config.box.id)),
                                      api.allowed_origins))]
    sessions = PageSessions(api.token) if api.token else None
    if sessions is not None:
        middlewares.append(auth_middleware(sessions, wall_ms))
    middlewares += [audit_middleware(ctx), errors_middleware]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    app[CTX] = ctx
    app[sign_in.SESSIONS] = sessions
    app[GUARD] = ConnectionGuard(api.max_connections, api.max_websockets, api.header_timeout_s)
    for table in (api_jobs.routes, api_printers.routes, events.routes, devices_api.routes,
                  api_scales.routes,
                  sales_api.routes, rotation.routes, health_api.routes, station_api.routes,
                  pairing_api.routes, metrics_api.routes, sign_in.routes, page_routes):
        app.add_routes(table)
    return app
