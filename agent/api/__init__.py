"""The box's local HTTP API (aiohttp): print jobs, printers, health, events, the status page."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from agent.api import devices, events, jobs, printers
from agent.api.connections import GUARD, ConnectionGuard, busy_middleware
from agent.api.context import AgentContext
from agent.api.edge import EdgePolicy, edge_middleware
from agent.api.http import auth_middleware, errors_middleware, last_resort_middleware
from agent.api.keys import CTX
from agent.devices.network import box_host_name
from agent.sales import api as sales_api
from agent.sales.audit import audit_middleware
from agent.status_page import routes as page_routes

MAX_BODY = 8 * 1024 * 1024
"""Largest request body: a 4 MiB raw job is about 5.6 MiB of base64."""

__all__ = ["CTX", "AgentContext", "make_app"]


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
    if api.token:
        middlewares.append(auth_middleware(api.token))
    middlewares += [audit_middleware(ctx), errors_middleware]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    app[CTX] = ctx
    app[GUARD] = ConnectionGuard(api.max_connections, api.max_websockets, api.header_timeout_s)
    for table in (jobs.routes, printers.routes, events.routes, devices.routes,
                  sales_api.routes, page_routes):
        app.add_routes(table)
    return app
