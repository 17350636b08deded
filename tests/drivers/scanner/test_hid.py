"""Boot-keyboard decoding with real report bytes, and HID POS scanned-data reports."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scanner.framing import RawScan
from drivers.scanner.hid import (
    HONEYWELL_LAYOUT,
    NEWLAND_LAYOUT,
    HidKeyboardDecoder,
    HidPosAssembler,
    HidPosReport,
    parse_hid_pos_report,
)
from drivers.sim.scanner import hid_reports

UP = bytes.fromhex("00 00 00 00 00 00 00 00")
ENTER = bytes.fromhex("00 00 28 00 00 00 00 00")


def r(hexbytes: str) -> bytes:
    return bytes.fromhex(hexbytes)


def typed(decoder: HidKeyboardDecoder, reports: list[bytes], now_ms: int = 0) -> list[bytes]:
    out: list[RawScan] = []
    for report in reports:
        out += decoder.feed(report, now_ms)
    return [s.data for s in out]


def test_shifted_a_then_enter() -> None:
    reports = [r("02 00 04 00 00 00 00 00"), UP, ENTER, UP]
    assert typed(HidKeyboardDecoder(), reports) == [b"A"]


def test_right_shift_works_like_left_shift() -> None:
    reports = [r("20 00 05 00 00 00 00 00"), UP, r("00 00 05 00 00 00 00 00"), UP, ENTER, UP]
    assert typed(HidKeyboardDecoder(), reports) == [b"Bb"]


@pytest.mark.parametrize(
    ("report", "char"),
    [
        ("00 00 1e 00 00 00 00 00", b"1"),
        ("00 00 27 00 00 00 00 00", b"0"),
        ("02 00 1f 00 00 00 00 00", b"@"),
        ("02 00 20 00 00 00 00 00", b"#"),
        ("00 00 2d 00 00 00 00 00", b"-"),
        ("02 00 2d 00 00 00 00 00", b"_"),
        ("00 00 2c 00 00 00 00 00", b" "),
        ("02 00 33 00 00 00 00 00", b":"),
        ("02 00 34 00 00 00 00 00", b'"'),
        ("00 00 38 00 00 00 00 00", b"/"),
        ("00 00 2f 00 00 00 00 00", b"["),
        ("02 00 35 00 00 00 00 00", b"~"),
        ("00 00 62 00 00 00 00 00", b"0"),  # keypad 0
        ("00 00 63 00 00 00 00 00", b"."),  # keypad .
        ("01 00 30 00 00 00 00 00", b"\x1d"),  # Ctrl+] = GS, FNC1 in GS1 data
        ("10 00 07 00 00 00 00 00", b"\x04"),  # right Ctrl+D
    ],
)
def test_us_table(report: str, char: bytes) -> None:
    assert typed(HidKeyboardDecoder(), [r(report), UP, ENTER, UP]) == [char]


def test_caps_lock_toggles_letters_only_and_persists_across_scans() -> None:
    caps = [r("00 00 39 00 00 00 00 00"), UP]
    a, one = r("00 00 04 00 00 00 00 00"), r("00 00 1e 00 00 00 00 00")
    shift_a = r("02 00 04 00 00 00 00 00")
    decoder = HidKeyboardDecoder()
    assert typed(decoder, [*caps, a, UP, one, UP, shift_a, UP, ENTER, UP]) == [b"A1a"]
    assert decoder.caps_lock
    assert typed(decoder, [a, UP, ENTER, UP]) == [b"A"]
    assert typed(decoder, [*caps, a, UP, ENTER, UP]) == [b"a"]


def test_rollover_a_key_counts_only_when_it_newly_appears() -> None:
    reports = [
        r("00 00 04 00 00 00 00 00"),  # a down
        r("00 00 04 05 00 00 00 00"),  # b down while a still held
        r("00 00 05 00 00 00 00 00"),  # a up
        r("00 00 05 04 00 00 00 00"),  # a down again
        UP,
        ENTER,
        UP,
    ]
    assert typed(HidKeyboardDecoder(), reports) == [b"aba"]


def test_two_keys_appearing_in_one_report_count_in_array_order() -> None:
    assert typed(HidKeyboardDecoder(), [r("00 00 06 07 00 00 00 00"), UP, ENTER, UP]) == [b"cd"]


def test_phantom_report_is_ignored_and_held_keys_do_not_repeat() -> None:
    decoder = HidKeyboardDecoder()
    reports = [
        r("00 00 04 00 00 00 00 00"),
        r("00 00 01 01 01 01 01 01"),  # ErrorRollOver: too many keys
        r("00 00 04 00 00 00 00 00"),  # a is still the same press
        UP,
        ENTER,
        UP,
    ]
    assert typed(decoder, reports) == [b"a"]
    assert decoder.error_reports == 1


def test_keypad_enter_terminates_too() -> None:
    reports = [r("00 00 59 00 00 00 00 00"), UP, r("00 00 58 00 00 00 00 00"), UP]
    assert typed(HidKeyboardDecoder(), reports) == [b"1"]


def test_tab_terminator_leaves_enter_as_data() -> None:
    tab = r("00 00 2b 00 00 00 00 00")
    reports = [r("00 00 04 00 00 00 00 00"), UP, ENTER, UP, tab, UP]
    assert typed(HidKeyboardDecoder(terminator="tab"), reports) == [b"a\r"]


def test_alt_keypad_code_gives_a_gbk_chinese_character() -> None:
    # 中 is GBK D6D0 = 54992: Alt held, keypad 5 4 9 9 2, Alt released.
    kp = {"5": "5d", "4": "5c", "9": "61", "2": "5a"}
    reports = [r("04 00 00 00 00 00 00 00")]
    for digit in "54992":
        reports += [r(f"04 00 {kp[digit]} 00 00 00 00 00"), r("04 00 00 00 00 00 00 00")]
    reports += [UP, ENTER, UP]
    assert typed(HidKeyboardDecoder(), reports) == ["中".encode()]


def test_unknown_keys_are_ignored_and_counted() -> None:
    decoder = HidKeyboardDecoder()
    f1 = r("00 00 3a 00 00 00 00 00")
    assert typed(decoder, [f1, UP, r("00 00 04 00 00 00 00 00"), UP, ENTER, UP]) == [b"a"]
    assert decoder.ignored_keys == 1


def test_inter_key_timeout_frames_scans_without_a_terminator() -> None:
    decoder = HidKeyboardDecoder(terminator="none", inter_key_timeout_ms=50)
    out = []
    for t, report in enumerate(hid_reports("JC-1001", "NONE")):
        out += decoder.feed(report, t)
    assert out == []
    assert decoder.tick(100) == [RawScan(b"JC-1001", 12)]  # the last key down


def test_inter_key_timeout_drops_slow_typing_before_the_terminator() -> None:
    decoder = HidKeyboardDecoder(inter_key_timeout_ms=50)
    out = []
    for t, report in zip([0, 1, 200, 201, 202, 203], hid_reports("12"), strict=False):
        out += decoder.feed(report, t)
    assert [s.data for s in out] == [b"2"]
    assert decoder.framer.stale == 1


def test_report_id_prefixed_reports_and_other_collections() -> None:
    decoder = HidKeyboardDecoder(report_id=1)
    reports = [
        r("01 02 00 04 00 00 00 00 00"),
        r("02 00 00 05 00 00 00 00 00"),  # another collection (consumer keys): skipped
        r("01 00 00 00 00 00 00 00 00"),
        r("01 00 00 28 00 00 00 00 00"),
        r("01 00 00 00 00 00 00 00 00"),
    ]
    assert typed(decoder, reports) == [b"A"]


def test_a_report_of_the_wrong_size_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        HidKeyboardDecoder().feed(b"\x00" * 7, 0)
    assert exc.value.field == "report"


def test_bad_decoder_configuration_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        HidKeyboardDecoder(terminator="esc")
    with pytest.raises(InvalidInput):
        HidKeyboardDecoder(report_id=0)


codes = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)
    | st.sampled_from("合计找零单价ü\x1d"),
    min_size=1,
    max_size=20,
)


@given(codes=st.lists(codes, min_size=1, max_size=5), cuts=st.lists(st.integers(), max_size=30))
def test_report_stream_round_trips_under_any_chunking(codes: list[str], cuts: list[int]) -> None:
    stream = b"".join(b"".join(hid_reports(code)) for code in codes)
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    decoder = HidKeyboardDecoder()
    out: list[RawScan] = []
    for a, b in itertools.pairwise(bounds):
        out += decoder.feed_stream(stream[a:b], 0)
    assert [s.data.decode() for s in out] == codes


@given(
    reports=st.lists(st.binary(min_size=8, max_size=8), max_size=40),
    cuts=st.lists(st.integers(), max_size=20),
    terminator=st.sampled_from(["enter", "tab", "none"]),
)
def test_random_reports_yield_the_same_scans_report_by_report_or_chunked(
    reports: list[bytes], cuts: list[int], terminator: str
) -> None:
    one = HidKeyboardDecoder(terminator, inter_key_timeout_ms=40, max_len=16)
    by_report: list[RawScan] = []
    for report in reports:
        by_report += one.feed(report, 0)
    by_report += one.tick(1000)
    stream = b"".join(reports)
    two = HidKeyboardDecoder(terminator, inter_key_timeout_ms=40, max_len=16)
    chunked: list[RawScan] = []
    points = sorted({c % (len(stream) + 1) for c in cuts})
    bounds = [0, *points, len(stream)]
    for a, b in itertools.pairwise(bounds):
        chunked += two.feed_stream(stream[a:b], 0)
    chunked += two.tick(1000)
    assert chunked == by_report
    for scan in by_report:
        assert 0 < len(scan.data) <= 16


@given(
    steps=st.lists(st.tuples(st.binary(min_size=8, max_size=8), st.integers(0, 100)), max_size=40)
)
def test_random_timed_reports_only_yield_bounded_scans(steps: list[tuple[bytes, int]]) -> None:
    decoder = HidKeyboardDecoder("none", inter_key_timeout_ms=30, max_len=16)
    now = 0
    for report, gap in steps:
        now += gap
        for scan in decoder.feed(report, now) + decoder.tick(now):
            assert 0 < len(scan.data) <= 16
            scan.data.decode("utf-8")


def honeywell(aim: bytes, data: bytes, more: bool = False) -> bytes:
    report = bytes([0x02, len(data)]) + aim + data.ljust(56, b"\x00")
    return report + b"\x64\x00" + bytes([int(more)])


def test_hid_pos_honeywell_report() -> None:
    report = honeywell(b"]E0", b"6901234500017")
    assert len(report) == 64
    assert parse_hid_pos_report(report) == HidPosReport("]E0", b"6901234500017", False)
    assert HidPosAssembler().feed(report, 9) == [RawScan(b"]E06901234500017", 9)]


def test_hid_pos_continued_reports_are_joined() -> None:
    qr = "合计 12.50 找零 3.50 ".encode() * 3
    first, rest = qr[:56], qr[56:]
    assembler = HidPosAssembler()
    assert assembler.feed(honeywell(b"]Q1", first, more=True), 1) == []
    assert assembler.feed(honeywell(b"]Q1", rest), 2) == [RawScan(b"]Q1" + qr, 2)]


def test_hid_pos_without_aim_and_other_report_ids() -> None:
    report = honeywell(b"\x00\x00\x00", b"JC-1001")
    assert parse_hid_pos_report(report) == HidPosReport(None, b"JC-1001", False)
    assert parse_hid_pos_report(b"\x04\x01") is None
    assert HidPosAssembler().feed(b"\x04\x01", 0) == []


def test_hid_pos_newland_layout() -> None:
    report = bytes([0x02, 13]) + b"6901234500017".ljust(56, b"\x00") + bytes(5)
    parsed = parse_hid_pos_report(report, NEWLAND_LAYOUT)
    assert parsed == HidPosReport(None, b"6901234500017", False)


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (b"", "report"),
        (b"\x02", "report"),
        (b"\x02\x39" + bytes(62), "report[1]"),
        (b"\x02\x10]E0123", "report"),
    ],
)
def test_malformed_hid_pos_reports_are_invalid_input(report: bytes, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_hid_pos_report(report, HONEYWELL_LAYOUT)
    assert exc.value.field == field


def test_assembler_counts_malformed_and_overlong() -> None:
    assembler = HidPosAssembler(max_len=60)
    assert assembler.feed(b"\x02\x39" + bytes(62), 0) == []
    assert assembler.malformed == 1
    assembler.feed(honeywell(b"]Q1", b"x" * 56, more=True), 0)
    assert assembler.feed(honeywell(b"]Q1", b"y" * 10), 0) == []
    assert assembler.overlong == 1
    assert assembler.feed(honeywell(b"]Q1", b"ok"), 0) == [RawScan(b"]Q1ok", 0)]


@given(st.binary(max_size=70))
def test_random_hid_pos_bytes_parse_or_raise_invalid_input(report: bytes) -> None:
    try:
        parsed = parse_hid_pos_report(report)
    except InvalidInput:
        return
    assert parsed is None or len(parsed.data) <= 56
    HidPosAssembler().feed(report, 0)
