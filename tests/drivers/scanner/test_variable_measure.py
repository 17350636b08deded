"""Variable-measure EAN-13 from barcode scales (条码秤) and GS1 measure AIs 310n / 392n / 393n."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scanner.events import make_scan
from drivers.scanner.gs1 import gs1_check_digit, parse_gs1
from drivers.scanner.variable_measure import (
    MeasureRefused,
    VariableMeasure,
    encode_variable_measure,
    make_format,
    parse_variable_measure,
    price_check_digit,
)

PRICE = make_format("21 PPPPP VVVVV C")  # 散装自攻螺丝 label: item 01003, ¥25.80
WEIGHT = make_format("22 PPPPP WWWWW C")  # 电线 by weight: item 04011, 1.234 kg
CHECKED = make_format("2F PPPP X VVVVV C")  # a scale that adds the GS1 price check digit
FORMATS = (PRICE, WEIGHT, CHECKED)
AT = 1_796_600_000_000  # 2026-12-07


@pytest.mark.parametrize(("value", "digit"), [("2875", 9), ("14685", 6), ("0000", 0),
                                              ("00000", 0), ("02580", 2)])
def test_gs1_price_check_digit_vectors(value: str, digit: int) -> None:
    # 2875 -> 9 and 14685 -> 6 are the worked examples of GS1 General Specifications §7.9.3.
    assert price_check_digit(value) == digit


@pytest.mark.parametrize(("code", "measure"), [
    ("2101003025804", VariableMeasure(PRICE.layout, "01003", "price_fen", 2580)),
    ("2204011012344", VariableMeasure(WEIGHT.layout, "04011", "weight_g", 1234)),
    ("2010032025801", VariableMeasure(CHECKED.layout, "1003", "price_fen", 2580)),
])
def test_valid_codes(code: str, measure: VariableMeasure) -> None:
    assert parse_variable_measure(code, FORMATS) == measure
    fmt = next(f for f in FORMATS if f.layout == measure.layout)
    assert encode_variable_measure(fmt, measure.item, measure.value) == code


def test_a_wrong_check_digit_is_refused_naming_it() -> None:
    with pytest.raises(MeasureRefused) as exc:
        parse_variable_measure("2101003025807", FORMATS)
    assert exc.value.field == "ean13.check_digit"


def test_a_wrong_price_check_digit_is_refused_naming_it() -> None:
    # The EAN-13 check digit is right (recomputed), the price check digit 7 is not (2 is).
    body = "231003702580"
    code = body + str(gs1_check_digit(body))
    with pytest.raises(MeasureRefused) as exc:
        parse_variable_measure(code, FORMATS)
    assert exc.value.field == "ean13.price_check_digit"
    assert "expected 2" in exc.value.reason


def test_other_codes_are_not_measures() -> None:
    assert parse_variable_measure("6901234500035", FORMATS) is None  # the boxed screws' GTIN
    assert parse_variable_measure("2101003025804", ()) is None
    assert parse_variable_measure("21010030258", FORMATS) is None


def test_decimals_scale_the_value() -> None:
    jiao = make_format("21 PPPPP VVVVV C", decimals=1)  # the price printed in 角
    assert parse_variable_measure("2101003002580"[:12] + str(gs1_check_digit("210100300258")),
                                  (jiao,)) == VariableMeasure(jiao.layout, "01003",
                                                              "price_fen", 2580)


@pytest.mark.parametrize(("layout", "decimals"), [
    ("21 PPPPP VVVVV", None), ("31 PPPPP VVVVV C", None), ("21 PPPPP VVVVV CC", None),
    ("21 PPP VV PP VVV C", None), ("2F PPP X VVVVVV C", None), ("21 PPPPPPPPPP C", None),
    ("22 PPPPP WWWWW C", 4), ("21 PPPPP 价格VV C", None),
])
def test_bad_layouts_are_refused(layout: str, decimals: int | None) -> None:
    with pytest.raises(InvalidInput):
        make_format(layout, decimals)


@given(st.sampled_from(FORMATS), st.data())
def test_encode_then_parse_round_trips(fmt: object, data: st.DataObject) -> None:
    assert isinstance(fmt, type(PRICE))
    width_item = fmt.item.stop - fmt.item.start
    width_value = fmt.value.stop - fmt.value.start
    item = data.draw(st.text("0123456789", min_size=width_item, max_size=width_item))
    value = data.draw(st.integers(0, 10**width_value - 1))
    code = encode_variable_measure(fmt, item, value)
    assert parse_variable_measure(code, FORMATS) == VariableMeasure(fmt.layout, item,
                                                                    fmt.value_type, value)


@given(st.text("0123456789", min_size=13, max_size=13))
def test_any_13_digits_parse_or_are_refused_with_a_reason(code: str) -> None:
    try:
        parse_variable_measure(code, FORMATS)
    except MeasureRefused as e:
        assert e.field in ("ean13.check_digit", "ean13.price_check_digit")


@given(st.integers(0, 99_999), st.integers(0, 11), st.integers(1, 9))
def test_any_single_wrong_digit_is_refused(value: int, position: int, delta: int) -> None:
    code = encode_variable_measure(PRICE, "01003", value)
    if position < 2:
        return  # changing the flag makes it another format (or none)
    bad = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1:]
    with pytest.raises(MeasureRefused):
        parse_variable_measure(bad, FORMATS)


def test_scan_events_carry_the_measure_or_the_refusal() -> None:
    good = make_scan("till", b"]E02204011012344", AT, formats=FORMATS).as_event()
    assert good["measure"] == {"layout": WEIGHT.layout, "item": "04011", "weight_g": 1234}
    bad = make_scan("till", b"2204011012347", AT, formats=FORMATS).as_event()
    assert bad["refused"] == "ean13.check_digit: is 7, expected 4" and "measure" not in bad
    plain = make_scan("till", b"6901234500035", AT, formats=FORMATS).as_event()
    assert "measure" not in plain and "refused" not in plain


@pytest.mark.parametrize(("text", "fields"), [
    ("3103001234", {"net_weight_g": 1234}),
    ("39222580", {"price_fen": 2580}),
    ("39213184\x1d3102000125", {"price_fen": 31840, "net_weight_g": 1250}),
    ("39321563840", {"price_currency": "156", "price_fen": 3840, "price_minor": 3840}),
    ("39338401234", {"price_currency": "840", "price_minor": 123}),
    ("3924123455", {"price_fen": 1235}),  # 12.3455 yuan, rounded half up to fen
])
def test_gs1_measure_ais(text: str, fields: dict[str, object]) -> None:
    assert parse_gs1(text, ref_year=2026) == fields


@pytest.mark.parametrize(("text", "field"), [
    ("393215", "gs1.3932"), ("39321563x5", "gs1.3932"), ("3922", "gs1.3922"),
])
def test_bad_gs1_prices_name_the_ai(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_gs1(text, ref_year=2026)
    assert exc.value.field == field
