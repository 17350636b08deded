"""The device docs' example barcodes are real EAN-13s: a reader copying them gets valid codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.escpos.document import ean_check_digit

DOCS = Path(__file__).resolve().parents[3] / "docs"
EAN13 = re.compile(r"(?<![0-9])69[0-9]{11}(?![0-9])")  # GS1 China prefixes 690-699
HEX_LINE = re.compile(r"`((?:[0-9A-F]{2} )+)(?:0D|00 … 00)`")


@pytest.mark.parametrize("doc", ["devices.md", "local-api.md", "labels.md", "print-jobs.md"])
def test_every_ean13_in_the_docs_has_its_check_digit(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    codes = EAN13.findall(text)
    wrong = [c for c in codes if ean_check_digit(c[:12]) != int(c[12])]
    assert wrong == [], f"{doc}: wrong check digits in {wrong}"


def test_the_byte_examples_spell_the_codes_beside_them() -> None:
    text = (DOCS / "devices.md").read_text(encoding="utf-8")
    spelled = [bytes.fromhex(m.group(1)).decode("ascii", "replace")
               for m in HEX_LINE.finditer(text)]
    assert "6901234500011" in spelled
    assert any(s.endswith("]E06901234500011") for s in spelled), spelled
