"""Rule M: measured sale lines — weight or length × a unit price, rounded half up to fen."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.measure import measured_price
from sync.journal.schema import validate_body

# (measure in g or mm, price per kg or m in fen, amount in fen): docs/journal.md §5 vectors.
VECTORS = [
    (1234, 2580, 3184),   # 1.234 kg 散装自攻螺丝 × ¥25.80/kg = 31.83720 → ¥31.84
    (2345, 1990, 4667),   # 4666.55 → 4667: a half fen rounds up
    (500, 1, 1),          # 0.5 fen → 1
    (1, 499, 0),          # 0.499 fen → 0
    (2500, 350, 875),     # 2.500 m BV 电线 × ¥3.50/m
    (1000, 2580, 2580),
    (999_999, 10**7, 9_999_990_000),
]


@pytest.mark.parametrize(("measure", "price", "amount"), VECTORS)
def test_vectors(measure: int, price: int, amount: int) -> None:
    assert measured_price(measure, price) == amount


@given(st.integers(1, 10**9), st.integers(0, 10**13))
def test_the_rule_is_decimal_round_half_up(measure: int, price: int) -> None:
    exact = Decimal(measure) * Decimal(price) / Decimal(1000)
    assert measured_price(measure, price) == int(exact.quantize(Decimal(1), ROUND_HALF_UP))


SCREWS = {"sku": "JC-1003S", "name": "十字沉头自攻螺丝 散装 M4×30", "qty": 1, "unit": "kg",
          "unit_price": 3184, "amount": 3184, "weight_g": 1234, "unit_price_per_kg": 2580}
CABLE = {"sku": "JC-5002M", "name": "BV铜芯电线 2.5平方 散剪", "qty": 1, "unit": "m",
         "unit_price": 875, "amount": 875, "length_mm": 2500, "unit_price_per_m": 350}


def body(*lines: dict[str, Any]) -> dict[str, Any]:
    total = sum(ln["amount"] for ln in lines)
    return {"order": "XS-20261207-0007", "lines": [dict(ln) for ln in lines], "total": total,
            "payments": [{"method": "cash", "amount": total}] if total else []}


def test_measured_lines_are_valid_with_a_discount_too() -> None:
    validate_body("sale", body(SCREWS, CABLE), 5)
    validate_body("sale", body({**SCREWS, "discount": 184, "amount": 3000}), 5)
    validate_body("refund", {**body(SCREWS), "sale_seq": 2, "reason": "称重有误"}, 5)


@pytest.mark.parametrize(("change", "field"), [
    ({"amount": 3183}, "body.lines[0].amount"),
    ({"unit_price": 3183, "amount": 3183}, "body.lines[0].amount"),
    ({"weight_g": 1235}, "body.lines[0].amount"),
    ({"qty": 2, "amount": 6368}, "body.lines[0].qty"),
    ({"length_mm": 10}, "body.lines[0].length_mm"),
    ({"discount": 4000}, "body.lines[0].discount"),
    ({"weight_g": 0}, "body.lines[0].weight_g"),
    ({"weight_g": "1.234"}, "body.lines[0].weight_g"),
    ({"unit_price_per_kg": -1}, "body.lines[0].unit_price_per_kg"),
])
def test_a_line_that_does_not_follow_from_its_measure_is_refused(change: dict[str, Any],
                                                                 field: str) -> None:
    b = body({**SCREWS, **change})
    with pytest.raises(RecordError) as exc:
        validate_body("sale", b, 5)
    assert exc.value.field == field


def test_a_measure_needs_its_price() -> None:
    line = copy.deepcopy(SCREWS)
    del line["unit_price_per_kg"]
    with pytest.raises(RecordError) as exc:
        validate_body("sale", body(line), 5)
    assert exc.value.field == "body.lines[0].unit_price_per_kg"
