"""HQ's workshop endpoints: task progress and piece counts (JSON and CSV for payroll)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import lru_cache
from importlib import resources

from aiohttp import web

from hq.workshop.book import WorkshopBook, pieces_csv, pieces_xlsx
from hq.workshop.progress import CHINA

WORKSHOP = web.AppKey("workshop", WorkshopBook)
PAGE_PATH = "/workshop"
MAX_ROWS = 100_000


@lru_cache(maxsize=1)
def page_html() -> str:
    """The workshop page (hq/web/static/workshop.html); it reads the API with the session
    cookie."""
    return resources.files("hq.web").joinpath("static/workshop.html").read_text(encoding="utf-8")


async def workshop_page(request: web.Request) -> web.Response:
    """Serve the page (no data in it; the API it reads answers by the caller's role)."""
    return web.Response(text=page_html(), content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


def today() -> str:
    """Today in China (what "late" is measured against)."""
    return datetime.now(CHINA).strftime("%Y-%m-%d")


async def progress(request: web.Request, ids: list[str], box_filter: str | None
                   ) -> list[dict[str, object]]:
    """Every task's progress of the boxes `ids` (blocking reads in a thread)."""
    book = request.app[WORKSHOP]
    tallies = await asyncio.to_thread(book.tallies, [box_filter] if box_filter else ids)
    now = today()
    return [t for tally in tallies for t in tally.progress(now)]


async def pieces(request: web.Request, ids: list[str], box_filter: str | None,
                 day: str | None) -> list[dict[str, object]]:
    """Piece rows of `day` (or every day) of the boxes `ids`."""
    book = request.app[WORKSHOP]
    tallies = await asyncio.to_thread(book.tallies, [box_filter] if box_filter else ids)
    return [r for tally in tallies for r in tally.pieces(day)][:MAX_ROWS]


def csv_response(rows: list[dict[str, object]], day: str | None) -> web.Response:
    """The payroll CSV as a download."""
    name = f"pieces-{day or 'all'}.csv"
    return web.Response(body=pieces_csv(rows).encode("utf-8"),
                        headers={"Content-Type": "text/csv; charset=utf-8",
                                 "Content-Disposition": f'attachment; filename="{name}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def xlsx_response(rows: list[dict[str, object]], day: str | None) -> web.Response:
    """The payroll workbook as a download (written in a thread)."""
    name = f"pieces-{day or 'all'}.xlsx"
    body = await asyncio.to_thread(pieces_xlsx, rows)
    return web.Response(body=body, headers={
        "Content-Type": XLSX, "Content-Disposition": f'attachment; filename="{name}"'})
