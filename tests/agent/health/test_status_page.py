"""The status page shows the HQ link, every health reason and each printer's fix."""

from __future__ import annotations

from agent.api import page_html


def test_the_page_renders_the_link_reasons_and_printer_problems() -> None:
    page = page_html()
    assert "HQ 连接：${u.label}" in page and "u.last_error" in page
    assert "health.reasons" in page and "p.problem.text" in page
    assert "详细信息" in page  # raw error text folded away
    assert "!(body && body.status)" in page  # a degraded 503 still renders
