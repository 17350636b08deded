"""Every HQ page, opened by every role in headless Chromium (Debian's /usr/bin/chromium via
Playwright) at 1280 px and 390 px: the pages a role may open load without a script error and fit
the width; the others answer 403 (issue 15, "Done when"; roles table of docs/hq.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.hq_people import PASSWORD, STORE_A, World, start_world

PAGES = {
    "dashboard": "/",
    "stores": "/stores",
    "store": f"/store?id={STORE_A}",
    "workshop": "/workshop",
    "admin": "/admin",
    "clearing": "/clearing",
    "phone": "/m/print",
    "reports": "/reports",
}
"""Every HQ page by short name (a page added to HQ gets a line here and in MAY)."""
ALL = set(PAGES)
MAY = {
    "an": ALL,
    "cai": ALL - {"admin"},
    "yun": ALL - {"admin", "clearing", "reports"},
    "zhang": ALL - {"admin"},
    "xiao": ALL - {"admin", "workshop", "clearing", "reports"},
}
"""Which pages each demo user (admin, finance, operations, store manager, salesperson) may open,
as docs/hq.md's roles table says."""

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-pages"))
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


@pytest.mark.parametrize("user", sorted(MAY))
def test_each_role_opens_its_pages_at_both_widths(world: World, browser: Browser, user: str,
                                                  tmp_path: Path) -> None:
    base = world.hq.url
    errors: list[str] = []
    for width in (1280, 390):
        ctx = browser.new_context(viewport={"width": width, "height": 900})
        errors.clear()
        try:
            page = ctx.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/login")
            page.fill("#user", user)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: not url.endswith("/login"), timeout=60_000)
            for name, path in PAGES.items():
                answer = page.goto(base + path)
                assert answer is not None
                if name not in MAY[user]:
                    assert answer.status == 403, (user, name, answer.status)
                    continue
                assert answer.status == 200, (user, name, answer.status)
                page.wait_for_load_state("networkidle", timeout=60_000)
                assert fits(page), f"{user}: {name} is wider than {width} px"
                page.screenshot(path=str(tmp_path / f"{user}-{name}-{width}.png"),
                                full_page=True)
            assert errors == [], (user, width, errors)
        finally:
            ctx.close()
