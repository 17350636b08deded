"""Receipt rendering (previews, the simulator's job PNGs) is bounded whatever the bytes say."""

from __future__ import annotations

from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import Raster
from drivers.escpos.render import MAX_RENDER_DOTS, max_height, render_bytes
from drivers.profiles import get_profile


def gs_v0(width_bytes: int, rows: int, m: int = 0) -> bytes:
    return (b"\x1dv0" + bytes((m,)) + width_bytes.to_bytes(2, "little")
            + rows.to_bytes(2, "little") + b"\x00" * (width_bytes * rows))


def test_render_of_a_raster_flood_stops_at_the_bound() -> None:
    profile = get_profile("generic-cn-58")
    # 4 MiB of `GS v 0` (the largest raw job), each doubled in height: 116,000 rows of paper.
    flood = gs_v0(48, 20_000, m=3) * 4
    img = render_bytes(flood, profile)
    assert img.size == (384, max_height(profile))
    assert img.width * img.height <= MAX_RENDER_DOTS
    assert max_height(get_profile("generic-cn-80")) == MAX_RENDER_DOTS // 576


def test_a_raster_wider_than_the_paper_is_cut_to_the_paper() -> None:
    profile = get_profile("generic-cn-58")
    interp = EscposInterpreter(profile)
    interp.feed(gs_v0(512, 100, m=1))  # 4096 dots, doubled to 8192: the paper holds 384
    (raster,) = [e for e in interp.events() if isinstance(e, Raster)]
    assert raster.image.size == (384, 100)
