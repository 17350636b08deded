"""ScanFramer: terminators, idle timeout, length limit, noise, and chunking invariance."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scanner.framing import TERMINATORS, RawScan, ScanFramer, terminator_bytes


def feed_all(framer: ScanFramer, chunks: list[bytes], now_ms: int = 0) -> list[RawScan]:
    out: list[RawScan] = []
    for chunk in chunks:
        out += framer.feed(chunk, now_ms)
    return out


def counters(framer: ScanFramer) -> tuple[int, int, int, int]:
    return framer.scans, framer.overlong, framer.garbage, framer.stale


@pytest.mark.parametrize(
    ("name", "stream"),
    [
        ("CR", b"6901234500017\r"),
        ("LF", b"6901234500017\n"),
        ("CRLF", b"6901234500017\r\n"),
        ("TAB", b"6901234500017\t"),
    ],
)
def test_each_terminator_ends_a_scan(name: str, stream: bytes) -> None:
    framer = ScanFramer(terminator_bytes(name))
    assert framer.feed(stream, 7) == [RawScan(b"6901234500017", 7)]
    assert framer.pending == b""


def test_terminator_names_are_case_insensitive_and_checked() -> None:
    assert terminator_bytes("crlf") == b"\r\n"
    with pytest.raises(InvalidInput) as exc:
        terminator_bytes("ETX")
    assert exc.value.field == "terminator"


def test_crlf_split_between_chunks_still_ends_one_scan() -> None:
    framer = ScanFramer(b"\r\n")
    assert framer.feed(b"JC-1001\r", 1) == []
    assert framer.pending == b"JC-1001\r"
    assert framer.feed(b"\nJC-1002\r\n", 2) == [RawScan(b"JC-1001", 2), RawScan(b"JC-1002", 2)]


def test_a_lone_cr_inside_a_crlf_scan_is_data() -> None:
    framer = ScanFramer(b"\r\n")
    assert framer.feed(b"a\rb\r\n", 0) == [RawScan(b"a\rb", 0)]


def test_utf8_chinese_scan_passes_through() -> None:
    data = "合计 12.50".encode()
    assert ScanFramer(b"\r").feed(data + b"\r", 3) == [RawScan(data, 3)]


def test_overlong_input_is_dropped_up_to_the_next_terminator_and_counted() -> None:
    framer = ScanFramer(b"\r", max_len=8)
    assert framer.feed(b"123456789", 0) == []
    assert framer.overlong == 1
    assert framer.feed(b"0123456789" * 100, 0) == []  # still the same overlong frame
    assert framer.pending == b""
    assert framer.feed(b"xyz\rOK\r", 0) == [RawScan(b"OK", 0)]
    assert counters(framer) == (1, 1, 0, 0)


def test_overlong_crlf_frame_keeps_a_trailing_cr_to_find_the_end() -> None:
    framer = ScanFramer(b"\r\n", max_len=4)
    assert framer.feed(b"123456\r", 0) == []
    assert framer.feed(b"\nabc\r\n", 1) == [RawScan(b"abc", 1)]
    assert framer.overlong == 1


def test_exactly_max_len_is_accepted() -> None:
    framer = ScanFramer(b"\r\n", max_len=4)
    assert framer.feed(b"1234\r", 0) == []
    assert framer.feed(b"\n", 0) == [RawScan(b"1234", 0)]


def test_noise_frames_and_short_frames_are_garbage() -> None:
    framer = ScanFramer(b"\r", min_len=3)
    assert framer.feed(b"\x00\xff\x00\r12\r\r123\r", 0) == [RawScan(b"123", 0)]
    assert counters(framer) == (1, 0, 2, 0)


def test_no_terminator_mode_ends_a_scan_after_the_idle_timeout() -> None:
    framer = ScanFramer(b"", idle_timeout_ms=50)
    assert framer.feed(b"69012", 100) == []
    assert framer.feed(b"34500017", 120) == []
    assert framer.tick(169) == []
    assert framer.tick(170) == [RawScan(b"6901234500017", 120)]
    assert framer.tick(500) == []


def test_no_terminator_mode_new_data_after_a_gap_starts_a_new_scan() -> None:
    framer = ScanFramer(b"", idle_timeout_ms=50)
    framer.feed(b"AAA", 0)
    assert framer.feed(b"BBB", 60) == [RawScan(b"AAA", 0)]
    assert framer.tick(110) == [RawScan(b"BBB", 60)]


def test_no_terminator_mode_overlong_burst_is_dropped_until_the_gap() -> None:
    framer = ScanFramer(b"", max_len=4, idle_timeout_ms=10)
    framer.feed(b"12345", 0)
    framer.feed(b"6", 5)
    assert framer.tick(15) == []
    framer.feed(b"ok", 20)
    assert framer.tick(30) == [RawScan(b"ok", 20)]
    assert framer.overlong == 1


def test_terminator_mode_drops_a_stale_partial_scan() -> None:
    framer = ScanFramer(b"\r", idle_timeout_ms=100)
    framer.feed(b"69012", 0)
    assert framer.feed(b"3\r", 500) == [RawScan(b"3", 500)]
    assert framer.stale == 1
    framer.feed(b"x", 600)
    assert framer.tick(700) == []
    assert framer.stale == 2
    assert framer.dropped == 2


def test_time_going_backwards_does_not_raise_or_expire() -> None:
    framer = ScanFramer(b"", idle_timeout_ms=10)
    framer.feed(b"a", 100)
    assert framer.feed(b"b", 50) == []
    assert framer.tick(60) == [RawScan(b"ab", 50)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"terminator": b"\x03"}, "terminator"),
        ({"max_len": 0}, "max_len"),
        ({"min_len": 0}, "min_len"),
        ({"max_len": 2, "min_len": 3}, "min_len"),
        ({"idle_timeout_ms": 0}, "idle_timeout_ms"),
        ({"terminator": b""}, "idle_timeout_ms"),
    ],
)
def test_bad_configuration_is_invalid_input(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        ScanFramer(**kwargs)  # type: ignore[arg-type]
    assert exc.value.field == field


# Streams biased towards terminators, noise and ordinary scan characters.
stream_bytes = st.lists(
    st.sampled_from([b"\r", b"\n", b"\t", b"\x00", b"\xff", b"1", b"A", "合".encode(), b"\x1d"])
    | st.binary(max_size=6),
    max_size=60,
).map(b"".join)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(
    data=stream_bytes,
    cuts=st.lists(st.integers(min_value=0), max_size=20),
    term=st.sampled_from(["CR", "LF", "CRLF", "TAB"]),
    max_len=st.integers(min_value=1, max_value=12),
)
def test_any_chunking_gives_the_same_scans_and_counts(
    data: bytes, cuts: list[int], term: str, max_len: int
) -> None:
    whole = ScanFramer(TERMINATORS[term], max_len=max_len)
    chunked = ScanFramer(TERMINATORS[term], max_len=max_len)
    assert feed_all(chunked, split(data, cuts)) == whole.feed(data, 0)
    assert counters(chunked) == counters(whole)
    assert chunked.pending == whole.pending


@given(data=stream_bytes, max_len=st.integers(min_value=1, max_value=12))
def test_cr_framing_matches_a_split_oracle(data: bytes, max_len: int) -> None:
    expected = [
        f
        for f in data.split(b"\r")[:-1]
        if f and len(f) <= max_len and b"\x00" not in f and b"\xff" not in f
    ]
    got = [s.data for s in ScanFramer(b"\r", max_len=max_len).feed(data, 0)]
    assert got == expected


@given(
    bursts=st.lists(
        st.tuples(stream_bytes, st.integers(min_value=0, max_value=80), st.lists(st.integers())),
        max_size=8,
    ),
    term=st.sampled_from(list(TERMINATORS)),
)
def test_any_chunking_within_timed_bursts_gives_the_same_scans(
    bursts: list[tuple[bytes, int, list[int]]], term: str
) -> None:
    whole = ScanFramer(TERMINATORS[term], max_len=10, idle_timeout_ms=30)
    chunked = ScanFramer(TERMINATORS[term], max_len=10, idle_timeout_ms=30)
    got_whole: list[RawScan] = []
    got_chunked: list[RawScan] = []
    now = 0
    for data, gap, cuts in bursts:
        now += gap
        got_whole += whole.feed(data, now)
        got_chunked += feed_all(chunked, split(data, cuts), now)
    got_whole += whole.tick(now + 1000)
    got_chunked += chunked.tick(now + 1000)
    assert got_chunked == got_whole
    assert counters(chunked) == counters(whole)


@given(
    steps=st.lists(st.tuples(st.binary(max_size=40), st.integers(-(2**40), 2**40)), max_size=30),
    term=st.sampled_from(list(TERMINATORS)),
    max_len=st.integers(min_value=1, max_value=16),
)
def test_random_bytes_and_times_only_ever_yield_well_formed_scans(
    steps: list[tuple[bytes, int]], term: str, max_len: int
) -> None:
    framer = ScanFramer(TERMINATORS[term], max_len=max_len, idle_timeout_ms=25)
    for data, now in steps:
        for scan in framer.feed(data, now) + framer.tick(now):
            assert 0 < len(scan.data) <= max_len
            assert b"\x00" not in scan.data and b"\xff" not in scan.data
            if TERMINATORS[term]:
                assert TERMINATORS[term] not in scan.data
