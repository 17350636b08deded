"""A real HTTP server on 127.0.0.1 serving release bundles, as HQ serves them, and counting
the requests (a refused upgrade must not even download)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Shelf:
    """The files served, by name, and every path requested."""

    files: dict[str, bytes]
    requests: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, name: str) -> str:
        """Where `name` is served."""
        return f"http://127.0.0.1:{self.port}/v1/releases/{name}"


@contextlib.asynccontextmanager
async def serve(files: dict[str, bytes]) -> AsyncIterator[Shelf]:
    """Serve `files` under /v1/releases/ until the block ends."""
    shelf = Shelf(files)

    async def get(request: web.Request) -> web.Response:
        shelf.requests.append(request.path)
        body = shelf.files.get(request.match_info["name"])
        return web.Response(body=body) if body is not None else web.Response(status=404)

    app = web.Application()
    app.router.add_get("/v1/releases/{name}", get)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    shelf.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    try:
        yield shelf
    finally:
        await runner.cleanup()
