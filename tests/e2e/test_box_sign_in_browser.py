"""The box's status page in headless Chromium (Debian's /usr/bin/chromium via Playwright) with
a token configured: the page sends the browser to /login, the token is typed once, the page
loads with its cookie (no token in any URL) and its writes carry the CSRF token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.chromium import CHROMIUM, FLAGS
from tests.e2e.edge_proc import job, post_json, start_box
from tests.e2e.procs import Proc

TOKEN = "Box-Token-CQ-JB-001-0123456789"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Proc]:
    proc = start_box(tmp_path, api=f'token = "{TOKEN}"')
    try:
        yield proc
    finally:
        proc.stop()


def test_the_status_page_signs_in_once_and_cancels_a_job_with_its_csrf_token(box: Proc) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert post_json(box.port, "/v1/print-jobs", job("web-cancel-1"), **auth).status == 202
    base = f"http://127.0.0.1:{box.port}"
    urls: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 900})
            page.on("request", lambda r: urls.append(r.url))
            page.on("dialog", lambda d: d.accept())
            page.goto(base + "/")
            page.wait_for_url(base + "/login?next=/", timeout=60_000)
            page.fill("#token", "wrong-token-0000000000")
            page.click("button[type=submit]")
            page.wait_for_function("document.getElementById('err').textContent === '令牌不对'",
                                   timeout=60_000)
            page.fill("#token", TOKEN)
            page.click("button[type=submit]")
            page.wait_for_url(base + "/", timeout=60_000)
            page.wait_for_selector("text=取消", timeout=60_000)
            page.click("text=取消")
            page.wait_for_function(
                "fetch('/v1/print-jobs/' + encodeURIComponent('web-cancel-1'))"
                ".then(r => r.json()).then(j => window.__state = j.state) && "
                "window.__state === 'canceled'", timeout=60_000, polling=300)
        finally:
            browser.close()
    assert urls and not any(TOKEN in u or "token=" in u for u in urls)
