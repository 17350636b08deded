"""What rendering one print job may cost, charged before the work is done (pure).

A receipt document and a label each get a Budget: decoded image pixels (read from PNG headers,
never by decoding), raster rows (bitmap rows the printer is sent) and CPU seconds spent
rendering (`clock` is passed in; the default reads the rendering thread's CPU time); QR codes
are counted too, limited only where a caller asks (`max_qr`). Going over
raises JobTooLarge naming the block or element; the local API answers it with HTTP 413.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers import InvalidInput

__all__ = [
    "MAX_DOCUMENT_PIXELS", "MAX_DOCUMENT_ROWS", "MAX_LABEL_PIXELS", "MAX_LABEL_ROWS",
    "MAX_RENDER_CPU_S", "PNG_SIGNATURE", "Budget", "JobTooLarge", "PngHeader",
    "document_budget", "label_budget", "png_header",
]

MAX_DOCUMENT_PIXELS = 16_000_000
"""Decoded pixels of all images of one receipt document (about three 576 × 8000 images)."""
MAX_DOCUMENT_ROWS = 40_000
"""Raster rows (`GS v 0`) of one receipt document: about 5 m of paper at 203 dpi."""
MAX_LABEL_PIXELS = 16_000_000
"""Decoded pixels of all images of one label (one 4000 × 4000 image)."""
MAX_LABEL_ROWS = 12_000
"""Bitmap rows (TSPL `BITMAP`, ZPL `^GFA`) of one label: two full 500 mm labels at 300 dpi."""
MAX_RENDER_CPU_S = 10.0
"""CPU seconds rendering one document or label may take."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


class JobTooLarge(InvalidInput):
    """A job that would cost more than its budget to render; `field` names the block."""


@dataclass(frozen=True)
class PngHeader:
    """The size and pixel format a PNG declares in its IHDR chunk."""

    width: int
    height: int
    bit_depth: int
    color_type: int

    @property
    def pixels(self) -> int:
        """Pixels the image decodes to."""
        return self.width * self.height


def png_header(png: bytes, path: str) -> PngHeader:
    """The IHDR of `png`, read without decoding anything; InvalidInput at `path` if it has none."""
    if not png.startswith(PNG_SIGNATURE):
        raise InvalidInput(path, "is not a PNG image")
    if len(png) < 33 or png[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise InvalidInput(path, "is not a readable PNG image (no IHDR header)")
    width, height, depth, color = struct.unpack(">IIBB", png[16:26])
    if not (0 < width < 2**31 and 0 < height < 2**31) or depth not in _DEPTHS.get(color, ()):
        raise InvalidInput(path, "is not a readable PNG image (bad IHDR header)")
    return PngHeader(width, height, depth, color)


class Budget:
    """Running totals of one document or label against its limits."""

    def __init__(self, what: str, max_pixels: int, max_rows: int,
                 max_cpu_s: float = MAX_RENDER_CPU_S,
                 clock: Callable[[], float] = time.thread_time,
                 max_qr: int | None = None) -> None:
        self.what = what
        self.max_pixels = max_pixels
        self.max_rows = max_rows
        self.max_cpu_s = max_cpu_s
        self.max_qr = max_qr
        self.clock = clock
        self.pixels = 0
        self.rows = 0
        self.qr = 0
        self.started = clock()

    def charge_qr(self, path: str) -> None:
        """Count one QR symbol about to be computed (milliseconds of CPU each, in Python);
        JobTooLarge at `path` past `max_qr` (None: no limit but the CPU budget)."""
        self.qr += 1
        if self.max_qr is not None and self.qr > self.max_qr:
            raise JobTooLarge(path, f"this {self.what} has more than {self.max_qr} QR codes")

    def charge_pixels(self, n: int, path: str) -> None:
        """Count `n` decoded image pixels; JobTooLarge at `path` past the limit."""
        self.pixels += n
        if self.pixels > self.max_pixels:
            raise JobTooLarge(path, f"the images of this {self.what} decode to more than "
                                    f"{self.max_pixels} pixels in all ({self.pixels} so far)")

    def charge_image(self, png: bytes, path: str) -> PngHeader:
        """Read `png`'s header and count its pixels; the header, for what comes next."""
        header = png_header(png, path)
        self.charge_pixels(header.pixels, path)
        return header

    def charge_rows(self, n: int, path: str) -> None:
        """Count `n` raster rows; JobTooLarge at `path` past the limit."""
        self.rows += n
        if self.rows > self.max_rows:
            raise JobTooLarge(path, f"this {self.what} needs more than {self.max_rows} "
                                    f"raster rows ({self.rows} so far)")

    def check_time(self, path: str) -> None:
        """JobTooLarge at `path` once rendering has taken more than the CPU budget."""
        spent = self.clock() - self.started
        if spent > self.max_cpu_s:
            raise JobTooLarge(path, f"rendering this {self.what} took more than "
                                    f"{self.max_cpu_s:g} s of CPU")


def document_budget(clock: Callable[[], float] = time.thread_time) -> Budget:
    """The budget of one receipt document."""
    return Budget("document", MAX_DOCUMENT_PIXELS, MAX_DOCUMENT_ROWS, clock=clock)


def label_budget(clock: Callable[[], float] = time.thread_time) -> Budget:
    """The budget of one label."""
    return Budget("label", MAX_LABEL_PIXELS, MAX_LABEL_ROWS, clock=clock)
