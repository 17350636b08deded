"""Previews: the PNG of what a printer of a given profile prints from the bytes it receives."""

from __future__ import annotations

from drivers.escpos.render import render_bytes, to_png
from drivers.profiles import PrinterProfile


def preview_png(data: bytes, profile: PrinterProfile) -> bytes:
    """Render the exact bytes sent to a printer of `profile` as the paper would look (PNG)."""
    return to_png(render_bytes(data, profile, markers=True))
