"""Barcode module patterns and QR matrices, shared by label layout and the label renderer."""

from __future__ import annotations

from functools import lru_cache

from drivers.escpos.document import ean_check_digit

__all__ = ["barcode_pattern", "printer_data", "qr_matrix", "scan_text"]


def printer_data(symbology: str, data: str) -> str:
    """What the printer is sent: EAN-13 without its check digit (printers add it)."""
    return data[:12] if symbology == "EAN13" else data


def scan_text(symbology: str, data: str) -> str:
    """What a scanner reads back: EAN-13 with its check digit."""
    if symbology == "EAN13":
        digits = data[:12]
        return digits + str(ean_check_digit(digits))
    return data


@lru_cache(maxsize=256)
def barcode_pattern(symbology: str, data: str) -> str:
    """Bars as '1'/'0' modules, no quiet zone; Code 39 wide elements are 3 modules, no check."""
    import barcode  # only when a label has a barcode: an idle box never loads it

    if symbology == "EAN13":
        code = barcode.get_barcode_class("ean13")(data[:12])
    elif symbology == "CODE39":
        code = barcode.get_barcode_class("code39")(data, add_checksum=False)
    elif symbology == "CODE128":
        code = barcode.get_barcode_class("code128")(data)
    else:
        raise ValueError(f"unknown symbology {symbology!r}")
    pattern: str = code.build()[0]
    return pattern


@lru_cache(maxsize=256)
def qr_matrix(data: str, ec: str) -> tuple[tuple[bool, ...], ...]:
    """Dark modules of the smallest QR symbol for `data` at level `ec`, no quiet zone.

    Like a printer in automatic mode: the level is not boosted.
    """
    import segno

    qr = segno.make_qr(data, error=ec.lower(), boost_error=False)
    return tuple(tuple(bool(m) for m in row) for row in qr.matrix)
