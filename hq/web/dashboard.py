"""The HQ dashboard at / for HQ staff (Chinese): boxes, cloud print, settlement, alarms.

The page holds no data: it reads everything from the JSON API with the session cookie of the
user signed in at /login (the API answers each role with what it may see).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from aiohttp import web

from hq.dispatch.cloud_print import job_view
from hq.store import HqStore
from sync.static import inline_shared

PAGE_PATH = "/"
MAX_JOBS = 500


@lru_cache(maxsize=1)
def page_html() -> str:
    """The page (hq/web/static/dashboard.html with sync/static/ui.js inlined)."""
    return inline_shared(resources.files("hq.web").joinpath("static/dashboard.html")
                         .read_text(encoding="utf-8"))


async def dashboard_page(request: web.Request) -> web.Response:
    """Serve the page; it refreshes itself from /v1/boxes, /v1/print-jobs, /v1/settlements
    and /v1/alarms."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def recent_jobs(store: HqStore, now_ms: int, limit: int = 50,
                box: str | None = None) -> list[dict[str, Any]]:
    """The newest cloud print jobs (of `box`, if given) with state and history (blocking)."""
    return [job_view(row, store.job_states(row.id), now_ms)
            for row in store.jobs_recent(min(limit, MAX_JOBS), box)]


def scoped_jobs(store: HqStore, now_ms: int, boxes: list[str], limit: int = 50
                ) -> list[dict[str, Any]]:
    """The newest jobs of any of `boxes`, newest first (blocking)."""
    rows = [row for b in boxes for row in store.jobs_recent(min(limit, MAX_JOBS), b)]
    rows.sort(key=lambda r: (-r.created_ms, r.id))
    return [job_view(row, store.job_states(row.id), now_ms) for row in rows[:limit]]


def own_jobs(store: HqStore, now_ms: int, user: str, limit: int = 50,
             box: str | None = None) -> list[dict[str, Any]]:
    """The newest jobs `user` sent (to `box`, if given), newest first (blocking)."""
    out = []
    for job_id in store.jobs_of(user, MAX_JOBS):
        row = store.job(job_id)
        if row is not None and (box is None or row.box == box):
            out.append(job_view(row, store.job_states(row.id), now_ms))
            if len(out) >= limit:
                break
    return out
