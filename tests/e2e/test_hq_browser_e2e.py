"""Each role signs in to the running HQ in headless Chromium (Debian's /usr/bin/chromium via
Playwright, no downloaded browser) and sees, at 1280 px and at 390 px, what it may and only
that (issue 15, point 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.hq_people import PASSWORD, World, start_world

WIDTHS = (1280, 390)
PARTS = ("boxes", "jobs", "settlements", "alarms")
SEES = {
    "an": {"boxes", "jobs", "settlements", "alarms"},
    "cai": {"boxes", "settlements"},
    "yun": {"boxes", "jobs", "alarms"},
    "zhang": {"boxes", "jobs", "settlements", "alarms"},
    "xiao": {"boxes", "jobs"},
}
"""What each role's dashboard shows (docs/hq.md, roles table)."""
NAME_A, NAME_B = "重庆江北建材旗舰店", "成都三号仓"
STORE_NAMES = {"an": {NAME_A, NAME_B}, "cai": {NAME_A, NAME_B}, "yun": {NAME_A, NAME_B},
               "zhang": {NAME_A}, "xiao": {NAME_B}}

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-browser"))
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("user", sorted(SEES))
def test_each_role_sees_its_parts_and_stores(world: World, browser: Browser, user: str,
                                             width: int, tmp_path: Path) -> None:
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = ctx.new_page()
        base = world.hq.url
        page.goto(base + "/")
        page.wait_for_url(base + "/login", timeout=60_000)
        assert fits(page)
        page.fill("#user", user)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/", timeout=60_000)
        page.wait_for_function("document.getElementById('me').textContent.includes('测试')",
                               timeout=60_000)
        page.wait_for_function("document.querySelectorAll('#box-cards .card').length > 0",
                               timeout=60_000)
        for part in PARTS:
            visible = page.is_visible(f"#part-{part}")
            assert visible == (part in SEES[user]), (user, part)
        cards = page.inner_text("#box-cards")
        for name in (NAME_A, NAME_B):
            assert (name in cards) == (name in STORE_NAMES[user]), (user, name)
        assert page.is_visible("#admin-link") == (user == "an")
        assert fits(page), f"{user}: the dashboard is wider than {width} px"
        page.screenshot(path=str(tmp_path / f"dashboard-{user}-{width}.png"), full_page=True)
        if user == "an":
            page.goto(base + "/admin")
            page.wait_for_function("document.querySelectorAll('#users tr').length >= 6",
                                   timeout=60_000)
            assert "测试zhang" in page.inner_text("#users")
            assert "登录" in page.inner_text("#audit")
            assert fits(page)
        else:
            answer = page.goto(base + "/admin")
            assert answer is not None and answer.status == 403
        page.goto(base + "/")
        page.wait_for_function("document.getElementById('me').textContent.includes('测试')",
                               timeout=60_000)
        page.click("#logout")
        page.wait_for_url(base + "/login", timeout=60_000)
        page.goto(base + "/")
        page.wait_for_url(base + "/login", timeout=60_000)
    finally:
        ctx.close()


def test_the_overview_grid_filters_and_opens_a_store_on_a_phone(world: World,
                                                                browser: Browser) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 900})
    try:
        page = ctx.new_page()
        base = world.hq.url
        page.goto(base + "/login")
        page.fill("#user", "an")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/", timeout=60_000)
        page.goto(base + "/stores")
        page.wait_for_function("document.querySelectorAll('a.tile').length === 2",
                               timeout=60_000)
        assert fits(page)
        tiles = page.locator("a.tile")
        assert all("h-" in (tiles.nth(i).get_attribute("class") or "") for i in range(2))
        page.fill("#q", "成都")
        page.wait_for_function("document.querySelectorAll('a.tile').length === 1",
                               timeout=60_000)
        assert NAME_B in page.inner_text("#regions") and NAME_A not in page.inner_text("#regions")
        page.click("a.tile")
        page.wait_for_function("document.getElementById('title').textContent === '成都三号仓'",
                               timeout=60_000)
        assert not page.is_hidden("#part-jobs") and not page.is_hidden("#part-alarms")
        assert "job-b-cd" in page.inner_text("#jobs")
        assert fits(page)
    finally:
        ctx.close()
