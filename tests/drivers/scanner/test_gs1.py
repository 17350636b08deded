"""GS1 element strings: fields, check digits, dates, weights, FNC1 separators, errors."""

from __future__ import annotations

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scanner.gs1 import GS, gs1_check_digit, is_valid_gtin, parse_gs1

GTIN = "06901234500011"  # catalog barcode 690123450001 with its check digit


def test_gtin_expiry_batch_serial() -> None:
    text = f"01{GTIN}17261130" + "10LOT-A" + GS + "21SN001"
    assert parse_gs1(text, ref_year=2025) == {
        "gtin": GTIN,
        "expiry": "2026-11-30",
        "batch": "LOT-A",
        "serial": "SN001",
    }


def test_a_wrong_gtin_check_digit_names_the_ai() -> None:
    # 06901234500017 (the catalog's 13-digit code with a leading 0) has check digit 1, not 7.
    with pytest.raises(InvalidInput) as exc:
        parse_gs1("01069012345000171726113010LOT-A\x1d21SN001", ref_year=2025)
    assert exc.value.field == "gs1.01"
    assert "expected 1" in exc.value.reason
    fields = parse_gs1(
        "01069012345000171726113010LOT-A\x1d21SN001", ref_year=2025, verify_check_digits=False
    )
    assert fields["gtin"] == "06901234500017"


def test_sscc_content_and_count() -> None:
    text = "00106141411234567897" + f"02{GTIN}" + "3724" + GS + "10批"[:2] + "B7"
    assert parse_gs1(text, ref_year=2025) == {
        "sscc": "106141411234567897",
        "content_gtin": GTIN,
        "count": 24,
        "batch": "B7",
    }


@pytest.mark.parametrize(
    ("ai", "digits", "grams"),
    [
        ("3100", "000012", 12000),
        ("3102", "001250", 12500),
        ("3103", "001250", 1250),
        ("3104", "001255", 126),  # 125.5 g rounds half up
        ("3105", "000125", 1),  # 1.25 g
    ],
)
def test_net_weight_becomes_grams(ai: str, digits: str, grams: int) -> None:
    assert parse_gs1(f"01{GTIN}{ai}{digits}", ref_year=2025) == {
        "gtin": GTIN,
        "net_weight_g": grams,
    }


@pytest.mark.parametrize(
    ("text", "ref_year", "expected"),
    [
        ("17280200", 2028, {"expiry": "2028-02-29"}),  # day 00: last day of the month
        ("15250400", 2025, {"best_before": "2025-04-30"}),
        ("11250400", 2025, {"production_date": "2025-04"}),  # day 00 of a production date
        ("13991231", 2025, {"packaging_date": "1999-12-31"}),  # 74 years ahead: last century
        ("17300101", 2090, {"expiry": "2130-01-01"}),  # 60 years behind: next century
        ("17410101", 2090, {"expiry": "2041-01-01"}),
    ],
)
def test_dates_and_the_century_window(text: str, ref_year: int, expected: dict[str, str]) -> None:
    assert parse_gs1(text, ref_year=ref_year) == expected


def test_fnc1_first_and_after_fixed_fields_is_tolerated() -> None:
    assert parse_gs1(f"{GS}01{GTIN}{GS}10A{GS}", ref_year=2025) == {"gtin": GTIN, "batch": "A"}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "gs1"),
        ("9912345", "gs1.99"),
        ("ABC", "gs1"),
        (f"01{GTIN[:10]}", "gs1.01"),
        ("010690123450001X", "gs1.01"),
        ("17261301", "gs1.17"),  # month 13
        ("17260230", "gs1.17"),  # 30 February
        ("10" + "L" * 21, "gs1.10"),
        ("10LOT A", "gs1.10"),  # space is outside set 82
        ("10批次", "gs1.10"),
        (f"10{GS}21X", "gs1.10"),  # empty batch
        ("37123456789", "gs1.37"),
        ("3106000001", "gs1.31"),
        (f"10A{GS}10B", "gs1.10"),  # same AI twice, different values
    ],
)
def test_errors_name_the_ai(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_gs1(text, ref_year=2025)
    assert exc.value.field == field


def test_check_digit_helpers() -> None:
    assert gs1_check_digit("690123450001") == 1
    assert is_valid_gtin("6901234500011")
    assert not is_valid_gtin("6901234500017")
    assert is_valid_gtin("96385074")
    assert not is_valid_gtin("96385074x")


def test_element_string_from_a_real_gs1_128_symbol() -> None:
    symbol = zxingcpp.create_barcode(
        f"(01){GTIN}(17)261130(10)LOT-A(21)SN001(3103)001250",
        zxingcpp.BarcodeFormat.Code128,
        gs1=True,
    )
    (result,) = zxingcpp.read_barcodes(symbol.to_image(scale=3), text_mode=zxingcpp.TextMode.Plain)
    assert result.symbology_identifier == "]C1"
    assert parse_gs1(result.text, ref_year=2025) == {
        "gtin": GTIN,
        "expiry": "2026-11-30",
        "batch": "LOT-A",
        "serial": "SN001",
        "net_weight_g": 1250,
    }


set82 = st.text(
    alphabet=st.sampled_from("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcxyz"),
    min_size=1,
    max_size=20,
)


def with_check(digits: str) -> str:
    return digits + str(gs1_check_digit(digits))


@given(
    gtin=st.text(alphabet="0123456789", min_size=13, max_size=13).map(with_check),
    batch=set82,
    serial=set82,
    count=st.integers(0, 99_999_999),
    order=st.permutations(["01", "10", "21", "37"]),
)
def test_any_order_of_elements_round_trips(
    gtin: str, batch: str, serial: str, count: int, order: list[str]
) -> None:
    element = {
        "01": f"01{gtin}",
        "10": f"10{batch}{GS}",
        "21": f"21{serial}{GS}",
        "37": f"37{count}{GS}",
    }
    text = "".join(element[ai] for ai in order)
    assert parse_gs1(text, ref_year=2025) == {
        "gtin": gtin,
        "batch": batch,
        "serial": serial,
        "count": count,
    }


@given(st.text(alphabet=st.sampled_from("0123456789AB-\x1d"), max_size=40) | st.text(max_size=20))
def test_random_text_gives_fields_or_invalid_input(text: str) -> None:
    try:
        fields = parse_gs1(text, ref_year=2025)
    except InvalidInput as exc:
        assert exc.field.startswith("gs1")
        return
    assert fields
