"""Both staff pages carry the shared browser helpers inline and define none of them again."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent.api import page_routes as status_routes
from hq.web.dashboard import PAGE_PATH, dashboard_page
from sync.static import SHARED_TAG, shared_script
from tests.sync.test_static import HELPERS


def status_app() -> web.Application:
    app = web.Application()
    app.add_routes(status_routes)
    return app


def dashboard_app() -> web.Application:
    app = web.Application()
    app.router.add_get(PAGE_PATH, dashboard_page)
    return app


@pytest.mark.parametrize(("make", "title"), [(status_app, "打印状态"), (dashboard_app, "门店设备")])
async def test_the_served_page_holds_the_shared_helpers_inline(
        make: Callable[[], web.Application], title: str) -> None:
    async with TestClient(TestServer(make())) as client:
        r = await client.get("/")
        assert r.status == 200 and r.content_type == "text/html" and r.charset == "utf-8"
        page = await r.text()
    assert title in page and SHARED_TAG not in page and "<script src" not in page
    assert page.count(shared_script()) == 1
    defined = re.findall(r"^(?:async )?function (\w+)\(", page, re.M)
    assert all(defined.count(name) == 1 for name in HELPERS)
    assert len(re.findall(r"<script>", page)) == len(re.findall(r"</script>", page)) == 2
