"""Browser code the box's status page and HQ's dashboard share (`ui.js`), inlined when served."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["SHARED_TAG", "inline_shared", "shared_script"]

SHARED_TAG = '<script src="/static/ui.js"></script>'
"""Where a page wants the shared helpers; replaced by them, so the page needs no second request
(a token-protected box would refuse a script fetched without the token)."""


@lru_cache(maxsize=1)
def shared_script() -> str:
    """The text of sync/static/ui.js."""
    return resources.files("sync").joinpath("static/ui.js").read_text(encoding="utf-8")


def inline_shared(page: str) -> str:
    """`page` with its one SHARED_TAG replaced by an inline script holding ui.js."""
    if page.count(SHARED_TAG) != 1:
        raise ValueError(f"the page must load the shared helpers once with {SHARED_TAG}")
    return page.replace(SHARED_TAG, f"<script>\n{shared_script()}</script>")
