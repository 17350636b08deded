"""The dashboard's open alerts in headless Chromium at 1280 px and 390 px (issue 15): Chinese
kind names, since when, a 确认 button that records who; a store manager sees only their store's
alerts and no button."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from hq.alert_config import AlertConfig
from hq.alerts.book import raise_alert
from hq.store.sqlite import SqliteStore
from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.hq_people import BOX_A, BOX_B, NOW, PASSWORD, STORE_A, STORE_B, World, start_world

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict[str, int]]]:
    tmp = tmp_path_factory.mktemp("hq-alerts-browser")
    w = start_world(tmp)
    try:
        s = SqliteStore(tmp / "hq.db")
        ids = {}
        try:
            for width, box, store in ((1280, BOX_A, STORE_A), (390, BOX_B, STORE_B)):
                i = raise_alert(s, AlertConfig(), "journal_fork", f"{box}#{width}", NOW, box=box,
                                store_id=store, detail={"seq": width, "reason": "两个版本的记录"})
                assert i is not None
                ids[box] = i
        finally:
            s.close()
        yield w, ids
    finally:
        w.stop()


@pytest.fixture(scope="module")
def browser(world: tuple[World, dict[str, int]]) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def signed_in(browser: Browser, world: World, user: str, width: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    base = world.hq.url
    page.goto(base + "/login")
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('#alert-rows tr').length > 0 && "
                           "!document.getElementById('alert-rows').textContent.includes('没有')",
                           timeout=60_000)
    return page


@pytest.mark.parametrize(("width", "box"), [(1280, BOX_A), (390, BOX_B)])
def test_operations_sees_open_alerts_and_acknowledges_one(
        world: tuple[World, dict[str, int]], browser: Browser, width: int, box: str,
        tmp_path: Path) -> None:
    w, ids = world
    page = signed_in(browser, w, "yun", width)
    try:
        text = page.inner_text("#alert-rows")
        assert "日志分叉" in text and "两个版本的记录" in text and "天前" in text
        assert fits(page), f"the dashboard is wider than {width} px"
        button = page.locator(f"#alert-rows button[data-alert='{ids[box]}']")
        assert button.inner_text() == "确认"
        button.click()
        page.wait_for_function(
            f"!document.querySelector(\"#alert-rows button[data-alert='{ids[box]}']\") && "
            "document.getElementById('alert-rows').textContent.includes('已确认（yun')",
            timeout=60_000)
        assert fits(page)
        page.screenshot(path=str(tmp_path / f"alerts-yun-{width}.png"), full_page=True)
    finally:
        page.context.close()


def test_a_store_manager_sees_only_their_stores_alerts_without_a_button(
        world: tuple[World, dict[str, int]], browser: Browser) -> None:
    w, _ = world
    page = signed_in(browser, w, "zhang", 390)
    try:
        text = page.inner_text("#alert-rows")
        assert BOX_A in text and BOX_B not in text
        assert page.locator("#alert-rows button").count() == 0
        assert fits(page)
    finally:
        page.context.close()
