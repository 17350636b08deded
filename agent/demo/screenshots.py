"""The demo's HQ users and screenshots: one user of every role, each signed in to HQ in headless
Chromium (Debian's /usr/bin/chromium through Playwright) with every HQ page saved at 1280 px
and at 390 px; a page the role may not open is listed, not saved (issue 15)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STORE = "CQ-JB-001"
PASSWORD = "演示密码-2026"
"""Every demo user's password (a demo on loopback; never a real HQ's)."""


@dataclass(frozen=True)
class DemoUser:
    """A demo sign-in: name, role, display name, stores."""

    name: str
    role: str
    display: str
    stores: tuple[str, ...] = ()


USERS = (
    DemoUser("admin", "admin", "系统管理员"),
    DemoUser("finance", "finance", "财务 李会计"),
    DemoUser("ops", "operations", "运维 周工"),
    DemoUser("manager", "store_manager", "店长 刘强", (STORE,)),
    DemoUser("sales", "salesperson", "业务员 张伟", (STORE,)),
)
PAGES: tuple[tuple[str, str], ...] = (
    ("dashboard", "/"),
    ("stores", "/stores"),
    ("store", f"/store?id={STORE}"),
    ("workshop", "/workshop"),
    ("pairing", "/pairing"),
    ("admin", "/admin"),
    ("clearing", "/clearing"),
    ("phone", "/m/print"),
    ("reports", "/reports"),
)
"""Every HQ page by short name (a page added to HQ gets a line here)."""
WIDTHS = (1280, 390)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
Say = Callable[[str], None]


def stores_toml(box_id: str) -> str:
    """The `[[stores]]` of the demo's HQ: the flagship store with its warehouse, one box (a
    warehouse kind, so that its salesperson may send cloud print jobs to it)."""
    return (f'\n[[stores]]\nid = "{STORE}"\nname = "重庆江北建材旗舰店·江北仓"\n'
            f'region = "西南·重庆"\nkind = "warehouse"\nboxes = ["{box_id}"]\n')


def add_users(hq_config: Path) -> None:
    """Create the demo users with `storelink hq user add` (password on standard input)."""
    for u in USERS:
        argv = [sys.executable, "-m", "hq.cli", "user", "add", u.name, "--role", u.role,
                "--display", u.display, "--config", str(hq_config), "--password-stdin"]
        for s in u.stores:
            argv += ["--store", s]
        done = subprocess.run(argv, input=PASSWORD + "\n", capture_output=True, text=True,
                              cwd=ROOT, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"adding demo user {u.name} failed: {done.stderr.strip()}")


def take(hq_url: str, out: Path, say: Say) -> list[Path]:
    """Sign in as each demo user and save every page it may open at each width into `out`;
    returns the files (none, with a note, when Chromium or Playwright is missing)."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        say("  screenshots skipped: Playwright is not installed (make setup installs it)")
        return []
    if chromium is None:
        say("  screenshots skipped: Debian's chromium is not installed (make setup installs it)")
        return []
    out.mkdir(parents=True, exist_ok=True)
    base = hq_url.rstrip("/")
    files: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        try:
            for u in USERS:
                refused: list[str] = []
                for width in WIDTHS:
                    ctx = browser.new_context(viewport={"width": width, "height": 900})
                    try:
                        page = ctx.new_page()
                        page.goto(base + "/login")
                        page.fill("#user", u.name)
                        page.fill("#password", PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_url(lambda url: not url.endswith("/login"), timeout=30_000)
                        for short, path in PAGES:
                            answer = page.goto(base + path)
                            if answer is None or answer.status != 200:
                                if width == WIDTHS[0]:
                                    code = "?" if answer is None else str(answer.status)
                                    refused.append(f"{short} {code}")
                                continue
                            page.wait_for_load_state("networkidle", timeout=30_000)
                            page.wait_for_timeout(300)
                            f = out / f"{u.name}-{short}-{width}.png"
                            page.screenshot(path=str(f), full_page=True)
                            files.append(f)
                    finally:
                        ctx.close()
                note = f"; not for this role (status): {', '.join(refused)}" if refused else ""
                say(f"  {u.name} ({u.role}): {len(PAGES) - len(refused)} pages{note}")
        finally:
            browser.close()
    return files
