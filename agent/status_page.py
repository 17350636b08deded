"""The status page at / for store staff (Chinese): printers, queue, last jobs with previews."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from aiohttp import web

from sync.static import inline_shared

routes = web.RouteTableDef()


@lru_cache(maxsize=1)
def page_html() -> str:
    """The page (agent/static/status.html with sync/static/ui.js inlined); it reads everything
    else from the API."""
    return inline_shared(resources.files("agent").joinpath("static/status.html")
                         .read_text(encoding="utf-8"))


@routes.get("/")
async def status_page(request: web.Request) -> web.Response:
    """Serve the page; it refreshes itself from /v1/printers and /v1/print-jobs."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})
