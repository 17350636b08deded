"""Find the cash-drawer kicks in ESC/POS bytes, read with the interpreter's command-length table.

A kick is `ESC p m t1 t2` or `DLE DC4 1 m t` at a command position (text bytes and the data of
commands whose length the table knows are skipped, as the interpreter and a printer do). Two
more things count as kicks, because a printer may act on them although a reader of this one job
would not: `DLE DC4 1 m t` anywhere, even inside another command's data (real-time commands are
acted on as they arrive on many printers), and an unfinished command at the end (the next job's
bytes would complete it, e.g. a job ending in `ESC` followed by one starting with `p`).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.escpos.command_lengths import (
    DLE,
    ESC,
    FS,
    GS,
    MAX_RASTER_BYTES,
    MAX_RASTER_WIDTH_BYTES,
    command_length,
)

__all__ = ["DrawerKick", "drawer_kicks"]

_REALTIME_PINS = (0, 1, 48, 49)


@dataclass(frozen=True)
class DrawerKick:
    """One drawer command (or what may become one) at byte `offset`; `command` names it."""

    offset: int
    command: str


def _garbage_raster(data: bytes | bytearray, i: int, n: int) -> bool:
    """A GS v 0 header the interpreter takes for garbage (8 bytes of Unknown, then resync)."""
    return data[i] == GS and data[i + 1] == 0x76 and (
        (data[i + 4] | data[i + 5] << 8) > MAX_RASTER_WIDTH_BYTES or n - 8 > MAX_RASTER_BYTES
        or data[i + 3] not in (0, 1, 2, 3, 48, 49, 50, 51))


def drawer_kicks(data: bytes | bytearray) -> tuple[DrawerKick, ...]:
    """Every drawer kick in `data`, in offset order (empty for bytes that never open it)."""
    found: dict[int, str] = {}
    i = 0
    while i < len(data):
        if data[i] not in (ESC, GS, FS, DLE):
            i += 1
            continue
        n = command_length(data, i)
        if n < 0:
            i += -n
            continue
        if n > 0 and _garbage_raster(data, i, n):
            i += 8  # the interpreter's resync: a header it will not believe is skipped alone
            continue
        if n == 0 or n > len(data) - i:
            found.setdefault(i, "an unfinished command at the end of the job")
            break
        if data[i] == ESC and data[i + 1] == 0x70:
            found[i] = "ESC p"
        elif data[i] == DLE and data[i + 1] == 0x14 and data[i + 2] == 1:
            found[i] = "DLE DC4 1"
        i += n
    raw, start = bytes(data), 0
    while (j := raw.find(b"\x10\x14\x01", start)) >= 0:
        if j + 4 < len(data) and data[j + 3] in _REALTIME_PINS and 1 <= data[j + 4] <= 8:
            found.setdefault(j, "DLE DC4 1")
        start = j + 1
    return tuple(DrawerKick(k, found[k]) for k in sorted(found))
