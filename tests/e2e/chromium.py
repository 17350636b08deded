"""Debian's Chromium for browser tests, driven by Playwright (never a downloaded browser): where
it is, the flags that keep it off the network, and whether a page fits its viewport."""

from __future__ import annotations

import shutil

from playwright.sync_api import Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def fits(page: Page) -> bool:
    """Whether the page is no wider than its viewport (no sideways scroll)."""
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))
