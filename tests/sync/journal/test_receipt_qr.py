"""Receipt QR codes: a real QR round trip, offline checks, tampering and malformed text."""

from __future__ import annotations

import contextlib
import io

import pytest
import segno
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from sync.journal import RecordError
from sync.journal.receipt_qr import ReceiptCode, from_entry, parse_receipt, verify_receipt
from sync.journal.vectors import ATTACKER, BOX1, BOX2, build

ENTRIES = build()[0].entries
SALE, REFUND, ROTATED_SALE, CLOSE = (from_entry(ENTRIES[i]) for i in (2, 6, 18, 15))
KEYS = [BOX1.public_key(), BOX2.public_key()]


def test_the_code_survives_a_real_qr_symbol() -> None:
    text = SALE.text()
    qr = segno.make(text, error="m")
    assert qr.mode == "alphanumeric"
    assert int(qr.version) <= 10
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(buf.getvalue())))
    assert [r.text for r in found] == [text]
    assert parse_receipt(found[0].text) == SALE


@pytest.mark.parametrize("code", [SALE, REFUND, ROTATED_SALE, CLOSE])
def test_receipts_verify_offline_with_the_right_key(code: ReceiptCode) -> None:
    parsed = parse_receipt(code.text())
    assert parsed == code
    assert verify_receipt(parsed, KEYS)
    assert not verify_receipt(parsed, [ATTACKER.public_key()])


def test_facts_on_the_code() -> None:
    assert (SALE.type, SALE.seq, SALE.amount) == ("sale", 2, 59200)
    assert (REFUND.type, REFUND.amount) == ("refund", -3600)
    assert CLOSE.text().split(":")[4] == "DAY-CLOSE" and parse_receipt(CLOSE.text()).type == (
        "day_close")
    assert parse_receipt(SALE.text().lower()) == SALE


@pytest.mark.parametrize("field", [2, 3, 4, 5])
def test_any_changed_fact_fails(field: int) -> None:
    parts = SALE.text().split(":")
    parts[field] = {2: "3", 3: "1795914300001", 4: "REFUND", 5: "5920"}[field]
    assert not verify_receipt(parse_receipt(":".join(parts)), KEYS)


@pytest.mark.parametrize(("text", "field"), [
    ("SLJ2:" + SALE.text()[5:], "receipt"), (SALE.text() + ":X", "receipt"),
    (SALE.text().replace(":SALE:", ":GIFT:"), "receipt.type"),
    (SALE.text().replace(":2:", ":02:"), "receipt.seq"),
    (SALE.text()[:-2], "receipt.sig"),
])
def test_malformed_codes_name_the_field(text: str, field: str) -> None:
    with pytest.raises(RecordError) as e:
        parse_receipt(text)
    assert e.value.field == field


@given(st.text(max_size=300))
def test_random_text_raises_only_record_error(text: str) -> None:
    with contextlib.suppress(RecordError):
        parse_receipt(text)
