"""The customer-display tables in docs/devices.md are the encoders' output, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.display import price, vfd

DOC = Path(__file__).resolve().parents[3] / "docs" / "devices.md"
ROW = re.compile(r"^\| [^|]* \| `((?:vfd|price)\.[^`]+)` \| `([0-9A-F ]+)` \|", re.MULTILINE)
ROWS = ROW.findall(DOC.read_text(encoding="utf-8"))


def test_the_tables_are_found() -> None:
    calls = [call for call, _ in ROWS]
    assert sum(c.startswith("vfd.") for c in calls) >= 14
    assert sum(c.startswith("price.") for c in calls) >= 12
    assert 'vfd.show_lines("合计", "找零")' in calls
    assert "price.show_amount(4, 4700)" in calls


@pytest.mark.parametrize(("call", "hexbytes"), ROWS, ids=[c for c, _ in ROWS])
def test_table_row_matches_the_encoder(call: str, hexbytes: str) -> None:
    produced = eval(call, {"__builtins__": {}}, {"vfd": vfd, "price": price})
    assert produced == bytes.fromhex(hexbytes)
