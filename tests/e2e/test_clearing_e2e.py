"""Clearing on a running `storelink hq run`: finance signs in, previews, runs, exports CSV and
XLSX and enters a deposit; a store manager reads only its store; a salesperson is refused; a
write without the CSRF token is refused; headless Chromium runs a clearing and downloads its
export from the page at 1280 px and 390 px (issue 15)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import sync_playwright

from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.edge_proc import raw_http
from tests.e2e.hq_people import (
    PASSWORD,
    STORE_A,
    STORE_B,
    Browser,
    World,
    admin,
    start_world,
)

DAY, NEXT = "2026-11-29", "2026-11-30"
"""The test-vector journal of store A's box: a closed day (gap alarm at seq 7, healed by the
close) and an open next day."""
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-clearing"))
    try:
        yield w
    finally:
        w.stop()


def test_finance_previews_runs_exports_and_books_a_deposit(world: World) -> None:
    port = world.hq.port
    cai = Browser.sign_in(port, "cai")
    assert cai.get("/v1/clearing/preview").field() == "day"
    assert cai.get("/v1/clearing/preview?day=2026-02-30").field() == "day"
    preview = cai.get(f"/v1/clearing/preview?day={DAY}").json()
    lines = {ln["store"]: ln for ln in preview["lines"]}
    assert set(lines) == {STORE_A, STORE_B}
    a = lines[STORE_A]
    assert [f["code"] for f in a["flags"]] == ["gap"] and a["flagged"]
    assert "缺失" in a["flags"][0]["reason"] and a["total"] != 0
    assert preview["consolidated"]["stores"] == [STORE_B]
    # A write without the CSRF token is refused and records nothing.
    refused = cai.post("/v1/clearing/runs", {"day": DAY}, csrf=None)
    assert refused.status == 403 and refused.field() == "X-CSRF-Token"
    assert cai.get("/v1/clearing/runs").json()["runs"] == []
    assert cai.post("/v1/clearing/runs", {"day": "明天"}).field() == "day"
    assert cai.post("/v1/clearing/runs", {"day": DAY, "x": 1}).field() == "x"
    assert cai.post("/v1/clearing/runs", {"day": "2999-01-01"}).field() == "day"
    made = cai.post("/v1/clearing/runs", {"day": DAY})
    assert made.status == 201, made
    run = made.json()
    assert run["by"] == "cai" and run["id"] == f"CR-{DAY}"
    cp = run["lines"][0]["boxes"][0]["checkpoint"]
    assert cp["size"] > 0 and len(cp["head"]) == 64 and cp["cosigned_ms"]
    again = cai.post("/v1/clearing/runs", {"day": DAY})
    assert again.status == 409 and again.field() == "day"
    # Exports re-add to the run's figures.
    got = cai.get(f"/v1/clearing/runs/{run['id']}/export.csv")
    assert got.status == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.body.decode("utf-8-sig"))))
    a_cash = sum(int(r["金额(分)"]) for r in rows if r["类型"] == "设备" and r["门店"] == STORE_A
                 and r["渠道"] == "cash")
    assert a_cash == a["channels"]["cash"]
    assert all("缺失" in r["标记"] for r in rows if r["门店"] == STORE_A and r["类型"] == "门店")
    xlsx = cai.get(f"/v1/clearing/runs/{run['id']}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.body), read_only=True)["清算"]
    total = [r for r in sheet.iter_rows(values_only=True) if r[0] == "汇总"]
    assert sum(int(r[7]) for r in total) == run["consolidated"]["total"]
    # A deposit 1 yuan short of store A's cash shows as 短款; bad input names the field.
    expected = a["channels"]["cash"]
    body = {"store": STORE_A, "day": DAY, "amount": expected - 100, "bank_ref": "工行 0012",
            "note": "早班现金 存入"}
    assert cai.post("/v1/clearing/deposits", {**body, "amount": "100"}).field() == "amount"
    assert cai.post("/v1/clearing/deposits", {**body, "store": "无此店"}).field() == "store"
    assert cai.post("/v1/clearing/deposits", {**body, "bank_ref": ""}).field() == "bank_ref"
    assert cai.post("/v1/clearing/deposits", body).status == 201
    cash = {m["store"]: m for m in cai.get(f"/v1/clearing/runs/{run['id']}").json()["cash"]}
    assert (cash[STORE_A]["diff"], cash[STORE_A]["status"]) == (-100, "短款")
    deps = cai.get(f"/v1/clearing/deposits?day={DAY}").json()["deposits"]
    assert [(d["store"], d["by"], d["note"]) for d in deps] == [(STORE_A, "cai", "早班现金 存入")]
    zhang, wang = Browser.sign_in(port, "zhang"), Browser.sign_in(port, "wang")
    assert len(zhang.get(f"/v1/clearing/deposits?day={DAY}").json()["deposits"]) == 1
    assert wang.get(f"/v1/clearing/deposits?day={DAY}").json()["deposits"] == []
    assert [m["store"] for m in wang.get(f"/v1/clearing/runs/{run['id']}").json()["cash"]] \
        == [STORE_B]


def test_store_managers_read_only_their_store_a_salesperson_is_refused(world: World) -> None:
    port = world.hq.port
    zhang = Browser.sign_in(port, "zhang")
    seen = zhang.get(f"/v1/clearing/preview?day={DAY}").json()
    assert [ln["store"] for ln in seen["lines"]] == [STORE_A] and seen["consolidated"] is None
    wang = Browser.sign_in(port, "wang")
    seen = wang.get(f"/v1/clearing/preview?day={DAY}").json()
    assert [ln["store"] for ln in seen["lines"]] == [STORE_B]
    assert wang.post("/v1/clearing/runs", {"day": NEXT}).status == 403
    assert wang.get(f"/v1/clearing/runs/CR-{DAY}/export.csv").status == 403
    xiao = Browser.sign_in(port, "xiao")
    for path in (f"/v1/clearing/preview?day={DAY}", "/v1/clearing/runs", "/clearing"):
        assert xiao.get(path).status == 403, path
    assert xiao.post("/v1/clearing/deposits", {"store": STORE_B}).status == 403
    made = admin(port, "POST", "/v1/tokens", {"name": "金蝶 ERP", "scopes": ["clearing"]})
    assert made.status == 201, made
    erp = {"Authorization": f"Bearer {made.json()['token']}"}
    assert raw_http(port, "GET", "/v1/clearing/runs", headers=erp).status == 200
    assert raw_http(port, "GET", "/v1/boxes", headers=erp).status == 403


@pytest.fixture(scope="module")
def chromium(world: World) -> Iterator[Chromium]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("width", (1280, 390))
def test_finance_runs_a_clearing_and_downloads_its_export_in_chromium(
        world: World, chromium: Chromium, width: int, tmp_path: Path) -> None:
    ctx = chromium.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    try:
        page = ctx.new_page()
        base = world.hq.url
        page.goto(base + "/login")
        page.fill("#user", "cai")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/", timeout=60_000)
        page.goto(f"{base}/clearing?day={NEXT}")
        page.wait_for_function("document.querySelectorAll('#lines tr').length === 3",
                               timeout=60_000)
        assert fits(page), f"the clearing page is wider than {width} px"
        assert "未日结" in page.inner_text("#flags")
        if page.is_enabled("#run"):  # the first width runs it, the second finds it cleared
            page.click("#run")
        page.wait_for_function("document.getElementById('state').textContent.includes('已清算')",
                               timeout=60_000)
        assert "重庆江北建材旗舰店" in page.inner_text("#lines")
        with page.expect_download(timeout=60_000) as dl:
            page.click("#xlsx")
        saved = tmp_path / "run.xlsx"
        dl.value.save_as(saved)
        sheet = load_workbook(saved, read_only=True)["清算"]
        assert next(sheet.iter_rows(values_only=True))[0] == "类型"
        page.screenshot(path=str(tmp_path / f"clearing-{width}.png"), full_page=True)
        assert fits(page)
    finally:
        ctx.close()
