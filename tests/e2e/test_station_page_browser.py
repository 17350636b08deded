"""The station page in a real browser (Debian's headless `chromium`, driven by Playwright) against
the running daemon with a pty scanner as the station's scanner: each scan's result or refusal
appears on /station/{id} (the scan → DOM latency is measured and printed), a code typed into
the page with Enter (a keyboard-wedge scanner on a tablet) records a handover, and defects are
entered with the page's buttons instead of the printed defect sheet."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from drivers.label.flowcard import encode_flow_card
from drivers.sim.scanner import SerialScannerSim
from tests.e2e.journal_box import WORKER_BADGE, JournalBox
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TASK_NO = "SC-20261207-031"
TASK: dict[str, Any] = {
    "task_no": TASK_NO, "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
    "qty": 240, "split_size": 80,
    "route": [{"step": 10, "name": "下料", "rate_fen": 5}, {"step": 20, "name": "冲压",
                                                          "rate_fen": 8}]}
STATION = """
[[stations]]
id = "ws-10"
name = "下料工位"
scanner = "till"
steps = [10]
defect_reasons = ["尺寸超差", "毛刺"]
"""
WATCH = """() => {
  window.seen = [];
  const el = document.getElementById("result");
  new MutationObserver(() => window.seen.push(
      {at: Date.now(), result: el.dataset.result, text: el.textContent}))
    .observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def card(n: int) -> str:
    return encode_flow_card(TASK_NO, n, 3, 80)


@pytest.fixture
def scanner() -> Iterator[SerialScannerSim]:
    with SerialScannerSim(b"\r") as sim:
        yield sim


@pytest.fixture
def journal_box(tmp_path: Path, scanner: SerialScannerSim) -> Iterator[JournalBox]:
    with JournalBox(tmp_path, scanner=scanner.port) as b:
        with b.config.open("a", encoding="utf-8") as f:
            f.write(STATION)
        yield b


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    """A fresh headless Chromium profile (Debian's browser; Playwright downloads none)."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def scanned(page: Page, sim: SerialScannerSim, code: str, result: str) -> tuple[str, float]:
    """Scan `code`; the page's text once it shows `result`, and ms from the scan to the DOM."""
    before = page.evaluate("window.seen.length")
    sent_ms = time.time() * 1000
    sim.scan(code)
    page.wait_for_function("([n, want]) => window.seen.slice(n).some(c => c.result === want)",
                           arg=[before, result], timeout=30_000)
    change = next(c for c in page.evaluate("window.seen")[before:] if c["result"] == result)
    return change["text"], change["at"] - sent_ms


def test_scans_appear_on_the_station_page_and_typed_codes_record_a_handover(
        journal_box: JournalBox, scanner: SerialScannerSim, page: Page) -> None:
    b = journal_box.start()
    wait_for(lambda: b.api("GET", "/v1/scanners")[1]["scanners"][0]["connected"],
             what="the station's scanner open")
    status, out = b.api("POST", "/v1/production-tasks", TASK)
    assert status == 201, out
    page.goto(f"{b.url}/station/ws-10")
    page.wait_for_function("document.getElementById('link').textContent === '已连接'",
                           timeout=30_000)
    assert page.text_content("#station") == "下料工位（ws-10）"
    assert page.text_content("#steps") == "工序 10"
    page.evaluate(WATCH)
    latencies: list[float] = []
    for code, result, says in ((card(1), "waiting", f"已扫流转卡 {TASK_NO} 1/3，请刷工牌"),
                               (WORKER_BADGE, "ok", f"✓ 10 下料 {TASK_NO} 1/3 合格 80 件 赵大勇"),
                               (card(1), "waiting", "请刷工牌"),
                               (WORKER_BADGE, "refused", "✗ 该容器已在 10 下料 交接过"),
                               ("6901234500017", "refused", "✗ 无法识别的条码")):
        text, ms = scanned(page, scanner, code, result)
        assert says in text, (code, text)
        latencies.append(ms)
    assert page.get_attribute("#result", "class") == "refused"
    print(f"\nstation page, scan on the pty → result in the browser's DOM over "
          f"{len(latencies)} scans: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies):.0f} ms (each: {', '.join(f'{x:.0f}' for x in latencies)})")
    # A USB scanner in keyboard mode types into the page: the code, then Enter.
    for code, result in ((card(2), "waiting"), (WORKER_BADGE, "ok")):
        before = page.evaluate("window.seen.length")
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_function(
            "([n, want]) => window.seen.slice(n).some(c => c.result === want)",
            arg=[before, result], timeout=30_000)
    assert f"{TASK_NO} 2/3 合格 80 件" in (page.text_content("#result") or "")
    assert "赵大勇 今日合格 160 件" in (page.text_content("#last") or "")
    # Defects from the page's buttons, then the card and the badge on the scanner.
    for button, says in (("不良：毛刺", "不良原因：毛刺，请扫数量"),
                         ("+2 件", "不良：毛刺 2 件；请扫流转卡和工牌"),
                         ("+1 件", "不良：毛刺 3 件；请扫流转卡和工牌")):
        before = page.evaluate("window.seen.length")
        page.get_by_role("button", name=button).click()
        page.wait_for_function("([n, want]) => window.seen.slice(n).some(c => c.text === want)",
                               arg=[before, says], timeout=30_000)
    scanned(page, scanner, card(3), "waiting")
    text, _ = scanned(page, scanner, WORKER_BADGE, "ok")
    assert f"{TASK_NO} 3/3 合格 77 件 不良 3 件" in text, text
    handovers = [r["body"] for r in b.journal_records() if r["type"] == "handover"]
    assert [(h["batch"], h["step"], h["from_worker"], h["qty"], h.get("defects"))
            for h in handovers] == [
        (f"{TASK_NO}#1/3", 10, "W001", 80, None), (f"{TASK_NO}#2/3", 10, "W001", 80, None),
        (f"{TASK_NO}#3/3", 10, "W001", 77, [{"reason": "毛刺", "qty": 3}])]
