"""Cloud print from a phone, end to end (issue 15): mosquitto, `storelink hq run`, the real box
daemon `storelink agent run` with a simulated TCP-9100 ESC/POS printer, and the phone page in
headless Chromium at 390 px. A salesperson signs in, sends the picking list of a Chinese order,
watches it reach 已打印; the printer got the GB18030 text; a reprint with a reason prints again
under a new id."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.broker import env_with_root
from tests.e2e.chromium import CHROMIUM, FLAGS, fits
from tests.e2e.daemon_world import BOX, DaemonWorld
from tests.e2e.hq_people import PASSWORD, add_user
from tests.e2e.printer_proc import read_log
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(600)
DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
STORE = "CQ-JB-001"
STORES = f"""
[[stores]]
id = "{STORE}"
name = "重庆江北仓"
region = "西南"
kind = "warehouse"
boxes = ["{BOX}"]
"""
ORDER = "XS-20261129-0042"
"""永盛家装 (K003): E0级生态板, 不锈钢合页 …"""


def hq_cli(config: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "hq.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, env=env_with_root(), timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonWorld]:
    root = tmp_path_factory.mktemp("phone")
    w = DaemonWorld(root, hq_extra=STORES, printer_raw=root / "raw")
    try:
        add_user(w.hq_config, "zhangwei", "salesperson", [STORE])
        hq_cli(w.hq_config, "orders", "salesperson", "zhangwei", "S101")
        hq_cli(w.hq_config, "orders", "import", str(DATA / "orders.json"), "--customers",
               str(DATA / "customers.json"), "--catalog", str(DATA / "catalog.json"),
               "--store", STORE)
        w.start_box()
        wait_for(lambda: w.online() and any(d.get("id") == "front"
                                            for d in w.box_view().get("devices", [])),
                 120, "the box and its printer known at HQ")
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def browser(world: DaemonWorld) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def printed_jobs(world: DaemonWorld) -> list[bytes]:
    """The bytes of every job the printer finished printing, in order."""
    raw = world.root / "raw"
    jobs = [rec for rec in read_log(world.printer_log) if "printed" in rec]  # not drawer kicks
    done = [n for n, rec in enumerate(jobs, 1) if rec["printed"]]
    files = sorted(raw.glob("job-*.bin")) if raw.exists() else []
    by_n = {int(f.stem.split("-")[1]): f for f in files}
    return [by_n[n].read_bytes() for n in done if n in by_n]


def wait_state(page: Page, state: str, not_id: str = "") -> str:
    """Wait until the followed job (not `not_id`) shows `state`; its id."""
    page.wait_for_function(
        "([s, old]) => { const e = document.getElementById('current-state');"
        " const id = document.getElementById('current-id').textContent;"
        " return e && e.dataset.state === s && id && id !== old; }",
        arg=[state, not_id], timeout=180_000)
    return str(page.text_content("#current-id"))


def test_a_salesperson_prints_a_picking_list_from_the_phone_and_reprints_it(
        world: DaemonWorld, browser: Browser, tmp_path: Path) -> None:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = ctx.new_page()
        page.goto(world.hq.url + "/m/print")
        page.wait_for_selector("#login:not(.hidden)", timeout=60_000)
        assert fits(page)
        page.fill("#user", "zhangwei")
        page.fill("#password", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#app:not(.hidden)", timeout=60_000)
        page.wait_for_function("document.querySelectorAll('#order option[value]').length === 3",
                               timeout=60_000)
        assert "永盛家装(K003)" in str(page.text_content("#order"))
        page.select_option("#order", ORDER)
        page.wait_for_function("document.querySelectorAll('#printer option[value]').length",
                               timeout=60_000)
        assert "重庆江北仓" in str(page.text_content("#printer"))
        page.check("input[name=document][value=picking_list]")
        page.click("#send")
        first = wait_state(page, "printed")
        assert first.startswith("m-")
        assert page.eval_on_selector_all("#steps span.done", "e => e.length") == 5
        assert fits(page)
        page.screenshot(path=str(tmp_path / "phone-printed-390.png"), full_page=True)
        jobs = printed_jobs(world)
        assert len(jobs) == 1
        # Han runs go out as GB18030 double-byte codes between FS & and FS . (profile gb18030).
        for word in ("拣", "货", "单", "永盛家装", "级生态板", "不锈钢合页", "重庆江北仓", "业务员",
                     "测试"):
            assert word.encode("gb18030") in jobs[0], word
        assert "永盛家装".encode() not in jobs[0]  # GB18030, never UTF-8
        # A reprint without a reason is refused on the page; with one it prints again.
        item = page.locator(f"#history .job[data-id='{first}']")
        item.locator("button.do-reprint").click()
        page.wait_for_function("document.getElementById('error').textContent.includes('原因')",
                               timeout=30_000)
        item.locator("input.reason").fill("客户丢失，补打一张")
        item.locator("button.do-reprint").click()
        second = wait_state(page, "printed", not_id=first)
        assert second.startswith("r-") and second != first
        page.wait_for_function(
            "document.getElementById('history').textContent.includes('原因：客户丢失，补打一张')",
            timeout=60_000)
        wait_for(lambda: len(printed_jobs(world)) == 2, 60, "the reprint printed")
        assert "永盛家装".encode("gb18030") in printed_jobs(world)[1]
        # The reprint's paper is headed 补打 with the original and the reason; the first is not.
        for word in ("补打", first, "客户丢失，补打一张"):
            assert word.encode("gb18030") in printed_jobs(world)[1], word
        assert "补打".encode("gb18030") not in printed_jobs(world)[0]
        status, view = world.hq_api("GET", f"/v1/print-jobs/{second}")
        assert status == 200 and view["state"] == "printed"
        page.set_viewport_size({"width": 1280, "height": 900})
        assert fits(page)
        page.screenshot(path=str(tmp_path / "phone-history-1280.png"), full_page=True)
    finally:
        ctx.close()


def test_the_audit_log_holds_the_reprint(world: DaemonWorld) -> None:
    status, audit = world.hq_api("GET", "/v1/audit?limit=200")
    assert status == 200
    reprints = [e for e in audit["audit"] if e["action"] == "reprint"]
    assert len(reprints) == 1 and reprints[0]["detail"]["reason"] == "客户丢失，补打一张"
    assert json.dumps(reprints[0], ensure_ascii=False).count("m-") >= 1
