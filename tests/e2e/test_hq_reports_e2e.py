"""Reports and the catalog on a running `storelink hq run`: the aggregates follow the stored
journals, each role sees only what it may (a store manager only their stores), bad queries and
bodies are 4xx naming the field, and the reports page draws its charts in headless Chromium at
1280 px and 390 px."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.edge_proc import Answer, raw_http
from tests.e2e.hq_people import Browser
from tests.e2e.hq_reports import FROM, STORE_A, STORE_B, TO, TOKEN, World, start_world

pytestmark = pytest.mark.timeout(600)
RANGE = f"from={FROM}&to={TO}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-reports"))
    try:
        deadline = time.monotonic() + 120
        while admin(w, "GET", f"/v1/reports/sales?{RANGE}").json()["total"]["orders"] != 4:
            assert time.monotonic() < deadline, "HQ did not fold the stored journals"
            time.sleep(0.2)
        yield w
    finally:
        w.stop()


def admin(w: World, method: str, path: str, body: object = None) -> Answer:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return raw_http(w.hq.port, method, path, headers=headers,
                    body=b"" if body is None else json.dumps(body, ensure_ascii=False).encode())


def put(b: Browser, path: str, body: object, csrf: bool = True) -> Answer:
    headers = {"Cookie": b.cookie, "Content-Type": "application/json",
               "Origin": f"http://127.0.0.1:{b.port}"}
    if csrf:
        headers["X-CSRF-Token"] = b.csrf
    return raw_http(b.port, "PUT", path, headers=headers,
                    body=json.dumps(body, ensure_ascii=False).encode())


def rows(a: Answer) -> dict[str, dict[str, Any]]:
    assert a.status == 200, a
    return {r["key"]: r for r in a.json()["rows"]}


def test_finance_sees_every_store_with_margin_refunds_and_voids(world: World) -> None:
    cai = Browser.sign_in(world.hq.port, "cai")
    by_store = rows(cai.get(f"/v1/reports/sales?{RANGE}&by=store"))
    assert by_store[STORE_A] == {"key": STORE_A, "qty": 13, "amount": 15700,
                                      "cost": 9250, "margin": 6450, "orders": 2}
    assert by_store[STORE_B] == {"key": STORE_B, "qty": 2, "amount": 18600, "cost": 13050,
                                 "margin": 5550, "orders": 2}
    assert set(rows(cai.get(f"/v1/reports/sales?{RANGE}&by=region"))) == {"西南", "川西"}
    days = rows(cai.get(f"/v1/reports/sales?{RANGE}&by=day"))
    assert days["2026-11-30"]["amount"] == 1800
    methods = cai.get(f"/v1/reports/methods?{RANGE}").json()
    assert {r["method"]: r["amount"] for r in methods["rows"]} == {
        "cash": 12100 - 16800, "wechat": 3600 + 33600, "card": 1800}  # alipay: voided
    clerks = rows(cai.get(f"/v1/reports/clerks?{RANGE}"))
    assert clerks[f"{STORE_A}/王芳"]["contact_sales"] == 33600 - 16800
    assert clerks[f"{STORE_A}/王芳"]["contact_credit"] == 5040
    top = cai.get(f"/v1/reports/top?{RANGE}&limit=2").json()["rows"]
    assert [(r["key"], r["name"]) for r in top] == [("JC-2001", "E0级生态板"),
                                                    ("JC-1001", "不锈钢合页 4寸")]
    named = cai.get(f"/v1/reports/sales?{RANGE}&by=product").json()["rows"]
    assert {r["key"]: r["name"] for r in named}["JC-1001"] == "不锈钢合页 4寸"


def test_a_store_manager_sees_only_their_stores(world: World) -> None:
    zhang = Browser.sign_in(world.hq.port, "zhang")
    assert set(rows(zhang.get(f"/v1/reports/sales?{RANGE}&by=store"))) == {STORE_A}
    total = zhang.get(f"/v1/reports/sales?{RANGE}&by=day").json()["total"]
    assert total["amount"] == 15700
    clerks = rows(zhang.get(f"/v1/reports/clerks?{RANGE}"))
    assert all(k.startswith(STORE_A + "/") for k in clerks)
    a = zhang.get(f"/v1/reports/sales?{RANGE}&store={STORE_B}")
    assert (a.status, a.field()) == (403, "store")
    by_region = rows(zhang.get(f"/v1/reports/sales?{RANGE}&by=store&region={quote('川西')}"))
    assert by_region == {}
    top = zhang.get(f"/v1/reports/top?{RANGE}").json()
    assert top["range"] == {"from": "2026-11-01", "to": "2026-11-30"}  # whole months
    assert {r["key"] for r in top["rows"]} == {"JC-1001", "JC-1002", "JC-1003"}
    assert zhang.get("/v1/reports/contacts/M-8801").json()["clerk"] == "王芳"
    wang = Browser.sign_in(world.hq.port, "wang")
    assert wang.get("/v1/reports/contacts/M-8801").status == 404


@pytest.mark.parametrize(("query", "status", "field"), [
    ("from=2026-11-31", 400, "from"),
    ("to=2026/11/30", 400, "to"),
    ("from=2026-12-01&to=2026-11-30", 400, "to"),
    ("from=2025-01-01&to=2026-11-30", 400, "to"),
    ("by=品牌", 400, "by"),
    ("store=NOPE", 404, "store"),
    ("region=NOPE", 404, "region"),
])
def test_bad_report_queries_name_the_parameter(world: World, query: str, status: int,
                                               field: str) -> None:
    a = admin(world, "GET", "/v1/reports/sales?" + query.replace("品牌", quote("品牌")))
    assert (a.status, a.field()) == (status, field), a
    a = admin(world, "GET", f"/v1/reports/weather?{RANGE}")
    assert (a.status, a.field()) == (404, "report")


def test_roles_and_scopes_of_the_report_and_catalog_routes(world: World) -> None:
    xiao = Browser.sign_in(world.hq.port, "xiao")
    a = xiao.get(f"/v1/reports/sales?{RANGE}")
    assert (a.status, a.field()) == (403, "role")
    assert xiao.get("/reports").status == 403
    assert xiao.get("/v1/catalog?q=" + quote("合页")).status == 200
    made = admin(world, "POST", "/v1/tokens", {"name": "BI 报表", "scopes": ["reports:read"]})
    assert made.status == 201, made
    secret = made.json()["token"]
    bi = {"Authorization": f"Bearer {secret}"}
    assert raw_http(world.hq.port, "GET", f"/v1/reports/compare?{RANGE}",
                    headers=bi).status == 200
    assert raw_http(world.hq.port, "PUT", "/v1/catalog", headers={
        **bi, "Content-Type": "application/json"}, body=b'{"products": []}').status == 403
    zhang = Browser.sign_in(world.hq.port, "zhang")
    a = put(zhang, "/v1/reports/contacts/M-8801", {"clerk": "张三", "store": STORE_A})
    assert (a.status, a.field()) == (403, "role")


def test_the_catalog_is_searched_and_written_with_csrf_and_checked(world: World) -> None:
    cai = Browser.sign_in(world.hq.port, "cai")
    found = cai.get("/v1/catalog?q=" + quote("合页")).json()["products"]
    assert [p["sku"] for p in found] == ["JC-1001"] and found[0]["cost"] == 520
    new = {"products": [{"sku": "JC-9001", "name": "铝合金拉手 128孔距", "price": 1200,
                         "cost": 640, "unit": "只"}]}
    a = put(cai, "/v1/catalog", new, csrf=False)
    assert a.status == 403, a
    assert cai.get("/v1/catalog?q=JC-9001").json()["products"] == []
    bad = {"products": [{"sku": "JC-9001", "name": "铝合金拉手", "price": 1200, "cost": -1}]}
    a = put(cai, "/v1/catalog", bad)
    assert (a.status, a.field()) == (400, "products[0].cost"), a
    a = put(cai, "/v1/catalog", new)
    assert (a.status, a.json()) == (200, {"written": 1})
    assert cai.get("/v1/catalog?q=" + quote("拉手")).json()["products"][0]["unit"] == "只"


def test_finance_assigns_a_members_first_contact_clerk(world: World) -> None:
    cai = Browser.sign_in(world.hq.port, "cai")
    a = put(cai, "/v1/reports/contacts/M-9902", {"clerk": "李强", "store": "NOPE"})
    assert (a.status, a.field()) == (400, "store")
    a = put(cai, "/v1/reports/contacts/M-9902", {"clerk": "李 强", "store": STORE_B})
    assert (a.status, a.field()) == (400, "clerk")
    a = put(cai, "/v1/reports/contacts/M-9902", {"clerk": "李强", "store": STORE_B})
    assert a.status == 200 and a.json()["assigned_by"] == "cai", a


@pytest.mark.parametrize("width", (1280, 390))
@pytest.mark.parametrize("user", ("cai", "zhang"))
def test_the_reports_page_draws_its_charts(world: World, user: str, width: int,
                                           tmp_path: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": width, "height": 900})
            page = ctx.new_page()
            base = world.hq.url
            page.goto(base + "/login")
            page.fill("#user", user)
            page.fill("#password", "门店密码-2026-春")
            page.click("button[type=submit]")
            page.wait_for_url(base + "/", timeout=60_000)
            page.goto(f"{base}/reports?{RANGE}")
            page.wait_for_function(
                "window.echarts && echarts.getInstanceByDom(document.getElementById("
                "'chart-trend')) && echarts.getInstanceByDom(document.getElementById("
                "'chart-trend')).getOption().series[0].data.length > 0", timeout=60_000)
            assert page.locator("#chart-trend canvas").count() >= 1
            stores = page.evaluate("echarts.getInstanceByDom(document.getElementById("
                                   "'chart-stores')).getOption().yAxis[0].data")
            assert stores == (["重庆江北建材旗舰店", "成都三号仓"] if user == "cai"
                              else ["重庆江北建材旗舰店"])
            assert "王芳" in page.inner_text("#clerks")
            assert "不锈钢合页 4寸" in page.inner_text("#top")
            assert page.inner_text("#error") == ""
            assert fits(page)
            page.screenshot(path=str(tmp_path / f"reports-{user}-{width}.png"), full_page=True)
        finally:
            browser.close()
