"""make_scan: text decoding, AIM + GS1 combined into a Scan event."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scanner.events import Scan, decode_scan_text, make_scan

AT = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def test_ean13_with_aim() -> None:
    scan = make_scan("scanner-1", b"]E06901234500017", AT)
    assert scan == Scan("scanner-1", "6901234500017", "EAN13", None, AT, aim="]E0")
    assert scan.as_event() == {
        "device": "scanner-1",
        "code": "6901234500017",
        "symbology": "EAN13",
        "gs1": None,
        "at_ms": AT,
        "aim": "]E0",
    }


def test_plain_code_has_no_symbology() -> None:
    assert make_scan("s", b"JC-1001", AT) == Scan("s", "JC-1001", None, None, AT)


def test_gs1_128_is_parsed_into_fields() -> None:
    scan = make_scan("s", b"]C101069012345000111726113010LOT-A\x1d21SN001", AT)
    assert scan.symbology == "GS1-128"
    assert scan.code == "01069012345000111726113010LOT-A\x1d21SN001"
    assert scan.gs1 == {
        "gtin": "06901234500011",
        "expiry": "2026-11-30",
        "batch": "LOT-A",
        "serial": "SN001",
    }
    assert scan.gs1_error is None


def test_a_malformed_gs1_string_still_delivers_the_code() -> None:
    scan = make_scan("s", b"]C101069012345000171726113010LOT-A\x1d21SN001", AT)
    assert scan.gs1 is None
    assert scan.gs1_error is not None and scan.gs1_error.startswith("gs1.01:")
    assert scan.as_event()["gs1_error"] == scan.gs1_error
    relaxed = make_scan("s", b"]C101069012345000171726113010LOT-A", AT, verify_check_digits=False)
    assert relaxed.gs1 == {"gtin": "06901234500017", "expiry": "2026-11-30", "batch": "LOT-A"}


def test_gs1_century_follows_the_scan_time_or_ref_year() -> None:
    raw = b"]d217990101"
    assert make_scan("s", raw, AT).gs1 == {"expiry": "1999-01-01"}
    assert make_scan("s", raw, AT, ref_year=2060).gs1 == {"expiry": "2099-01-01"}
    with pytest.raises(InvalidInput) as exc:
        make_scan("s", raw, 10**20)
    assert exc.value.field == "at_ms"


def test_chinese_qr_in_utf8_and_gb18030() -> None:
    assert make_scan("s", "]Q1合计 12.50".encode(), AT).code == "合计 12.50"
    assert make_scan("s", "]Q1找零 3.50".encode("gb18030"), AT).code == "找零 3.50"
    assert make_scan("s", "找零".encode("gb18030"), AT, encoding="gb18030").code == "找零"


def test_undecodable_bytes_are_replaced_not_raised() -> None:
    assert decode_scan_text(b"\x80abc") == "\ufffdabc"
    assert decode_scan_text(b"\xff\xfeabc") == "\ufffd\ufffdabc"


@pytest.mark.parametrize("raw", [b"", b"]E0", b"]Q1"])
def test_no_code_left_is_invalid_input(raw: bytes) -> None:
    with pytest.raises(InvalidInput) as exc:
        make_scan("s", raw, AT)
    assert exc.value.field == "scan.code"


def test_unknown_encoding_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        make_scan("s", b"x", AT, encoding="no-such-codec")
    assert exc.value.field == "encoding"


@given(
    raw=st.binary(max_size=40) | st.sampled_from([b"]C1", b"]d2", b"]e0"]).map(lambda p: p + b"01")
)
def test_random_bytes_give_a_scan_or_invalid_input(raw: bytes) -> None:
    try:
        scan = make_scan("s", raw, AT)
    except InvalidInput:
        return
    assert scan.code
    assert (scan.gs1 is None) or (scan.gs1_error is None)
