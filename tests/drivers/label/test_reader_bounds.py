"""Label readers and the label simulator: declared bitmap sizes cannot make them allocate
without bound (a ZPL ^GFA of a few bytes declares 2 MB)."""

from __future__ import annotations

from drivers.label.drawing import DrawBitmap, Notice, ParsedLabel
from drivers.label.tspl_reader import MAX_LABEL_BITMAP, TsplReader
from drivers.label.zpl_reader import ZplReader
from drivers.profiles import get_profile
from drivers.sim.label_printer import MAX_KEPT_BITMAP, SimTsplPrinter, SimZplPrinter

GFA = b"^FO0,0^GFA,32000,32000,250,,^FS"  # 32 bytes that decode to 32,000 bytes of white rows


def bitmap_bytes(label: ParsedLabel) -> int:
    return sum(len(e.data) for e in label.elements if isinstance(e, DrawBitmap))


def test_zpl_graphic_fields_are_bounded_per_label() -> None:
    reader = ZplReader()
    # 4,000 elements from 128 KB of input would be 128 MB of bitmap on one label.
    events = reader.feed(b"^XA^PW800^LL600" + GFA * 4000 + b"^FO10,10^GB50,50,2^FS^XZ")
    (label,) = [e for e in events if isinstance(e, ParsedLabel)]
    assert bitmap_bytes(label) == 250 * 32000 == MAX_LABEL_BITMAP
    assert label.elements[-1].__class__.__name__ == "DrawBox"  # what follows still prints
    skipped = [e.message for e in events if isinstance(e, Notice)]
    assert len(skipped) == 3750 and all("8000000 bytes on a label" in m for m in skipped)
    # The next label starts with a fresh allowance.
    again = [e for e in reader.feed(b"^XA" + GFA + b"^XZ") if isinstance(e, ParsedLabel)]
    assert bitmap_bytes(again[0]) == 32000


def test_tspl_bitmaps_are_bounded_per_label() -> None:
    one = b"BITMAP 0,0,250,8000,1," + b"\xff" * 2_000_000 + b"\r\n"
    reader = TsplReader()
    events = reader.feed(b"SIZE 100 mm,100 mm\r\nCLS\r\n" + one * 5 + b"PRINT 1,1\r\n")
    (label,) = [e for e in events if isinstance(e, ParsedLabel)]
    assert bitmap_bytes(label) == 8_000_000 <= MAX_LABEL_BITMAP
    assert any("bitmap skipped" in e.message for e in events if isinstance(e, Notice))
    # CLS clears the label, and its allowance with it.
    more = reader.feed(b"CLS\r\n" + one + b"PRINT 1\r\n")
    assert [bitmap_bytes(e) for e in more if isinstance(e, ParsedLabel)] == [2_000_000]


def test_label_simulators_keep_bounded_bitmaps() -> None:
    zpl = SimZplPrinter()
    label = b"^XA" + GFA * 250 + b"^XZ"  # 8 KB received, 8 MB of bitmap kept
    for _ in range(12):
        zpl.receive(label)
    assert len(zpl.labels) == MAX_KEPT_BITMAP // 8_000_000 < 12
    assert sum(bitmap_bytes(x) for x in zpl.labels) <= MAX_KEPT_BITMAP
    assert zpl.render().size == (832, 1218)  # the newest label is always kept and renders
    tspl = SimTsplPrinter(get_profile("tspl-203"))
    tspl.receive(b"SIZE 60 mm,40 mm\r\nCLS\r\nBAR 1,1,10,10\r\nPRINT 1,1\r\n")
    assert len(tspl.labels) == 1


def test_print_after_print_shares_the_elements() -> None:
    """4999 elements, then PRINT lines: each label costs a few bytes, not a copy of 4999."""
    reader = TsplReader()
    reader.feed(b"SIZE 60 mm,40 mm\r\nCLS\r\n" + b"BAR 1,1,2,2\r\n" * 4999)
    labels = [e for e in reader.feed(b"PRINT 1\r\n" * 20_000) if isinstance(e, ParsedLabel)]
    assert len(labels) == 20_000 and len(labels[0].elements) == 4999
    assert len({id(x.elements) for x in labels}) == 1
    more = [e for e in reader.feed(b"BAR 3,3,2,2\r\nPRINT 1\r\nCLS\r\nPRINT 1\r\n")
            if isinstance(e, ParsedLabel)]
    assert [len(x.elements) for x in more] == [5000, 0]
