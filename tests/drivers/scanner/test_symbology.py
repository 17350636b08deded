"""AIM identifiers: the table, and agreement with a real decoder's identifiers (zxing-cpp)."""

from __future__ import annotations

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from drivers.scanner.symbology import Aim, known_identifiers, lookup_aim, split_aim


def test_ean13_identifier_is_split_off() -> None:
    assert split_aim("]E06901234500017") == (Aim("]E0", "EAN13", False), "6901234500017")


@pytest.mark.parametrize(
    ("ident", "name", "gs1"),
    [
        ("]A0", "CODE39", False),
        ("]C0", "CODE128", False),
        ("]C1", "GS1-128", True),
        ("]E0", "EAN13", False),
        ("]E3", "EAN13", False),
        ("]E4", "EAN8", False),
        ("]F0", "CODABAR", False),
        ("]G0", "CODE93", False),
        ("]I1", "ITF", False),
        ("]L2", "PDF417", False),
        ("]Q1", "QR", False),
        ("]Q3", "GS1-QR", True),
        ("]d1", "DATAMATRIX", False),
        ("]d2", "GS1-DATAMATRIX", True),
        ("]e0", "GS1-DATABAR", True),
        ("]z0", "AZTEC", False),
        ("]z1", "GS1-AZTEC", True),
        ("]h0", "HANXIN", False),
        ("]U0", "MAXICODE", False),
    ],
)
def test_identifier_table(ident: str, name: str, gs1: bool) -> None:
    assert lookup_aim(ident) == Aim(ident, name, gs1)


@pytest.mark.parametrize("text", ["6901234500017", "]Y0abc", "]E", "]", "", "]E-1", "]E 1"])
def test_text_without_a_known_identifier_is_left_alone(text: str) -> None:
    assert split_aim(text) == (None, text)


def test_known_identifiers_cover_the_exact_table() -> None:
    table = known_identifiers()
    assert table["]C1"] == "GS1-128"
    assert table["]E0"] == "EAN13"
    assert all(lookup_aim(i) is not None for i in table)


F = zxingcpp.BarcodeFormat


@pytest.mark.parametrize(
    ("fmt", "content", "name"),
    [
        (F.EAN13, "6901234500011", "EAN13"),
        (F.EAN8, "96385074", "EAN8"),
        (F.UPCA, "036000291452", "EAN13"),
        (F.Code128, "JC-1001", "CODE128"),
        (F.Code39, "JC-1001", "CODE39"),
        (F.Code93, "JC1001", "CODE93"),
        (F.ITF, "06901234500011", "ITF"),
        (F.Codabar, "A123A", "CODABAR"),
        (F.QRCode, "合计 12.50", "QR"),
        (F.DataMatrix, "A-01-03", "DATAMATRIX"),
        (F.PDF417, "送货单 SO-20240501", "PDF417"),
        (F.Aztec, "B-01-01", "AZTEC"),
    ],
)
def test_identifiers_from_a_real_decoder(
    fmt: zxingcpp.BarcodeFormat, content: str, name: str
) -> None:
    image = zxingcpp.create_barcode(content, fmt).to_image(scale=4)
    (result,) = zxingcpp.read_barcodes(image)
    aim, rest = split_aim(result.symbology_identifier + result.text)
    assert aim is not None
    assert aim.symbology == name
    assert rest == result.text


@given(st.text(max_size=8))
def test_split_aim_never_raises_and_preserves_text(text: str) -> None:
    aim, rest = split_aim(text)
    assert (aim.identifier if aim else "") + rest == text
