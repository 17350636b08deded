"""Browsers sign in to the box once with its token and carry a cookie; a token in the URL is
refused; a signed-in page's writes need its CSRF token (real aiohttp server, real printer sim)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import CookieJar
from aiohttp.test_utils import TestClient, TestServer
from yarl import URL

from agent.api import make_app
from agent.api.page_sessions import FAIL_LIMIT
from agent.daemon import running
from tests.agent.conftest import SimFactory, box_config, raw_job

TOKEN = "s3cret-token-CQ-JB-001"
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


async def test_a_page_signs_in_once_and_its_writes_carry_the_csrf_token(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    printer, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port}, token=TOKEN)
    jar = CookieJar(unsafe=True)  # the test server is 127.0.0.1, an IP address
    async with running(cfg) as ctx, TestClient(TestServer(make_app(ctx)),
                                               cookie_jar=jar) as client:
        # A page load without a session goes to the sign-in page, keeping where it was going.
        r = await client.get("/station/cut?x=1", headers=PAGE, allow_redirects=False)
        to = URL(r.headers["Location"])
        assert r.status == 303 and to.path == "/login" and to.query["next"] == "/station/cut?x=1"
        login = await client.get("/login")
        assert login.status == 200 and "盒子访问令牌" in await login.text()
        # The API itself answers 401, never a redirect.
        assert (await client.get("/v1/printers", headers=PAGE)).status == 401

        wrong = await client.post("/v1/session", json={"token": "guess"})
        assert wrong.status == 401 and (await wrong.json())["error"]["field"] == "token"
        bad = await client.post("/v1/session", json={"token": 42})
        assert bad.status == 400 and (await bad.json())["error"]["field"] == "token"
        assert not jar.filter_cookies(client.make_url("/"))

        r = await client.post("/v1/session", json={"token": TOKEN})
        assert r.status == 200
        csrf = (await r.json())["csrf"]
        cookie = r.cookies["storelink_session"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and TOKEN not in cookie.value

        page = await client.get("/", headers=PAGE)
        assert page.status == 200 and "打印状态" in await page.text()
        assert (await (await client.get("/v1/session")).json())["csrf"] == csrf
        assert (await client.get("/v1/printers")).status == 200

        # A write from the signed-in page without (or with another) CSRF token changes nothing.
        for headers in ({}, {"X-CSRF-Token": "0" * 32}):
            r = await client.post("/v1/print-jobs", json=raw_job("j-csrf", "front"),
                                  headers=headers)
            assert r.status == 403 and (await r.json())["error"]["field"] == "X-CSRF-Token"
        assert (await client.get("/v1/print-jobs/j-csrf")).status == 404
        r = await client.post("/v1/print-jobs", json=raw_job("j-ok", "front"),
                              headers={"X-CSRF-Token": csrf})
        assert r.status == 202
        # A cookie does not rescue a wrong bearer token.
        r = await client.get("/v1/printers", headers={"Authorization": "Bearer wrong"})
        assert r.status == 401

        out = await client.post("/v1/session/logout", json={}, headers={"X-CSRF-Token": csrf})
        assert out.status == 200
        assert (await client.get("/v1/printers")).status == 401
        assert printer is not None


async def test_a_token_in_the_url_is_refused_everywhere(tmp_path: Path,
                                                        sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port}, token=TOKEN)
    async with running(cfg) as ctx, TestClient(TestServer(make_app(ctx))) as client:
        for path in ("/", "/v1/printers", "/v1/events", "/metrics", "/login", "/station/cut"):
            r = await client.get(f"{path}?token={TOKEN}")
            body = await r.json()
            assert r.status == 400 and body["error"]["field"] == "token", path
            assert TOKEN not in str(body)


async def test_wrong_tokens_from_one_address_are_limited(tmp_path: Path,
                                                         sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port}, token=TOKEN)
    async with running(cfg) as ctx, TestClient(TestServer(make_app(ctx))) as client:
        for i in range(FAIL_LIMIT):
            assert (await client.post("/v1/session", json={"token": f"g{i}"})).status == 401
        r = await client.post("/v1/session", json={"token": TOKEN})
        assert r.status == 429 and r.headers["Retry-After"] == "60"


async def test_without_a_token_no_sign_in_is_needed(tmp_path: Path,
                                                    sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port})
    async with running(cfg) as ctx, TestClient(TestServer(make_app(ctx))) as client:
        state = await (await client.get("/v1/session")).json()
        assert state == {"csrf": None, "expires_ms": None, "token_required": False}
        assert (await client.post("/v1/session", json={"token": "x"})).status == 409
