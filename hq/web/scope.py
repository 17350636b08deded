"""What a store-scoped caller may see of HQ's data: their stores' boxes, a salesperson's own
jobs."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from hq.dispatch.cloud_print import DispatchError
from hq.web.access import ACCESS, principal


def visible(request: web.Request, ids: list[str]) -> list[str]:
    """The boxes of `ids` the caller may see (their stores' boxes for store-scoped users)."""
    who = principal(request)
    return [b for b in dict.fromkeys(ids) if who.sees(b)]


def body_box_visible(request: web.Request, body: object) -> None:
    """403 naming `box` when a write names a box outside the caller's stores."""
    box = body.get("box") if isinstance(body, dict) else None
    if isinstance(box, str) and not principal(request).sees(box):
        raise DispatchError(403, "box", f"box {box!r} is not in your stores")


async def job_visible(request: web.Request, view: dict[str, Any]) -> bool:
    """Whether the caller may see this job: within their stores, and a salesperson's own."""
    who = principal(request)
    if not who.sees(str(view.get("box"))):
        return False
    if who.role != "salesperson":
        return True
    owner = await asyncio.to_thread(request.app[ACCESS].store.job_owner, str(view.get("id")))
    return owner == who.name
