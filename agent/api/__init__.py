"""The box's local HTTP API (aiohttp): print jobs, printers, health, events, the status page."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Middleware

from agent.api import devices, events, jobs, printers
from agent.api.context import AgentContext
from agent.api.http import auth_middleware, errors_middleware
from agent.api.keys import CTX
from agent.sales import api as sales_api
from agent.sales import rotation
from agent.sales.audit import audit_middleware
from agent.status_page import routes as page_routes

MAX_BODY = 8 * 1024 * 1024
"""Largest request body: a 4 MiB raw job is about 5.6 MiB of base64."""

__all__ = ["CTX", "AgentContext", "make_app"]


def make_app(ctx: AgentContext) -> web.Application:
    """The application for `ctx`; requests need the bearer token when one is configured."""
    # The audit middleware records every state-changing request after the token check.
    middlewares: list[Middleware] = [audit_middleware(ctx), errors_middleware]
    if ctx.config.api.token:
        middlewares.insert(0, auth_middleware(ctx.config.api.token))
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY)
    app[CTX] = ctx
    for table in (jobs.routes, printers.routes, events.routes, devices.routes,
                  sales_api.routes, rotation.routes, page_routes):
        app.add_routes(table)
    return app
