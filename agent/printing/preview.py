"""Previews: the PNG of what a printer of a given profile prints from the bytes it receives."""

from __future__ import annotations

from PIL import Image

from agent.printing.jobs import is_label_printer
from drivers.escpos.render import render_bytes, to_png
from drivers.label import render_label
from drivers.label.interpret import interpret
from drivers.profiles import PrinterProfile

BACKING = 200
"""Grey of the liner shown between and beside labels, so each label's edge is visible."""
GAP_MM = 2.0
MAX_PREVIEW_DOTS = 24_000_000
"""Dots of one preview sheet (labels and the liner between them)."""
MAX_PREVIEW_LABELS = 100
"""Labels (copies included) on one preview sheet. Past either bound later labels and copies are
left out; the first label is always shown. Receipts: drivers.escpos.render.MAX_RENDER_DOTS."""


def preview_png(data: bytes, profile: PrinterProfile) -> bytes:
    """Render the exact bytes sent to a printer of `profile` as the paper would look (PNG).

    A label printer's labels are stacked top to bottom in the order printed, each of a label's
    own copies (TSPL `PRINT 1,n`, ZPL `^PQn`) one below the other, a strip of liner between
    them; bytes that print no label give a strip of bare liner.
    """
    if is_label_printer(profile):
        gap = round(GAP_MM * profile.dpi / 25.4)
        return to_png(stack_labels(printed_labels(data, profile, gap), gap, profile.paper_dots))
    return to_png(render_bytes(data, profile, markers=True))


def printed_labels(data: bytes, profile: PrinterProfile, gap: int = 0,
                   max_dots: int = MAX_PREVIEW_DOTS,
                   max_labels: int = MAX_PREVIEW_LABELS) -> list[Image.Image]:
    """Every label `data` prints, each copy once, in order, while they (each with `gap` rows
    of liner) hold `max_dots` in all and number `max_labels`."""
    out: list[Image.Image] = []
    total = 0
    for parsed in interpret(data, profile):
        if out and (total + parsed.width * (parsed.height + gap) > max_dots
                    or len(out) >= max_labels):
            break
        img = render_label(parsed)
        for _ in range(parsed.copies):
            cost = img.width * (img.height + gap)
            if out and (total + cost > max_dots or len(out) >= max_labels):
                return out
            out.append(img)  # the same image again: a copy costs no memory until stacked
            total += cost
    return out


def stack_labels(labels: list[Image.Image], gap: int, empty_width: int) -> Image.Image:
    """The labels one below the other, `gap` dots of liner between them, left-aligned."""
    if not labels:
        return Image.new("L", (max(empty_width, 1), max(gap, 1)), BACKING)
    width = max(img.width for img in labels)
    height = sum(img.height for img in labels) + gap * (len(labels) - 1)
    sheet = Image.new("L", (width, height), BACKING)
    y = 0
    for img in labels:
        sheet.paste(img.convert("L"), (0, y))
        y += img.height + gap
    return sheet
