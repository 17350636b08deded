"""Label printer status replies: byte vectors, stream framing, chunking and garbage."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.label.status import (
    QUERIES,
    TSPL_EXTENDED_QUERY,
    TSPL_STATUS_QUERY,
    ZPL_HOST_STATUS_QUERY,
    StatusReader,
    StatusReplyError,
    parse_tspl_extended_status,
    parse_tspl_status,
    parse_zpl_host_status,
)
from drivers.printer_state import PrinterState as S
from drivers.printer_state import PrinterStatus


def test_query_bytes() -> None:
    assert TSPL_STATUS_QUERY == b"\x1b!?"
    assert TSPL_EXTENDED_QUERY == b"\x1b!S"
    assert ZPL_HOST_STATUS_QUERY == b"~HS"
    assert QUERIES == {"tspl": b"\x1b!?", "zpl": b"~HS"}


@pytest.mark.parametrize(("byte", "state", "detail"), [
    (0x00, S.OK, ()),
    (0x01, S.COVER_OPEN, ("head open",)),
    (0x02, S.JAM, ("paper jam",)),
    (0x04, S.PAPER_OUT, ("paper out",)),
    (0x08, S.RIBBON_OUT, ("ribbon out",)),
    (0x10, S.PAUSED, ("paused",)),
    (0x20, S.OK, ("printing",)),
    (0x40, S.COVER_OPEN, ("cover open",)),
    (0x80, S.ERROR, ("overheat",)),
    (0x14, S.PAPER_OUT, ("paper out", "paused")),
    (0x0C, S.PAPER_OUT, ("paper out", "ribbon out")),
    (0x41, S.COVER_OPEN, ("head open", "cover open")),
])
def test_tspl_status_byte(byte: int, state: S, detail: tuple[str, ...]) -> None:
    assert parse_tspl_status(bytes([byte])) == PrinterStatus(state, detail)


def test_tspl_status_printing_is_ready() -> None:
    assert parse_tspl_status(b"\x20").ready
    assert not parse_tspl_status(b"\x04").ready


@pytest.mark.parametrize("reply", [b"", b"\x00\x00"])
def test_tspl_status_wants_one_byte(reply: bytes) -> None:
    with pytest.raises(StatusReplyError):
        parse_tspl_status(reply)


def ext(body: bytes) -> bytes:
    return b"\x02" + body + b"\x03\r\n"


@pytest.mark.parametrize(("body", "state", "detail"), [
    (b"@@@@", S.OK, ()),
    (b"`@@@", S.PAUSED, ("paused",)),
    (b"P@@@", S.OK, ("printing",)),
    (b"@A@@", S.PAPER_LOW, ("paper low",)),
    (b"@H@@", S.OK, ("buffer full",)),
    (b"@@A@", S.ERROR, ("overheat",)),
    (b"@@H@", S.JAM, ("cutter jam",)),
    (b"@@@A", S.PAPER_OUT, ("paper out",)),
    (b"@@@B", S.JAM, ("paper jam",)),
    (b"@@@D", S.RIBBON_OUT, ("ribbon out",)),
    (b"@@@`", S.COVER_OPEN, ("head open",)),
    (b"`@@A", S.PAPER_OUT, ("paused", "paper out")),
])
def test_tspl_extended_status(body: bytes, state: S, detail: tuple[str, ...]) -> None:
    assert parse_tspl_extended_status(ext(body)) == PrinterStatus(state, detail)


@pytest.mark.parametrize("reply", [
    ext(b"@@@"), ext(b"@@@@@"), b"\x02@@@@\x03\r", b"@@@@@@@@", ext(b"\x00@@@"), ext(b"@@@\xc0"),
])
def test_tspl_extended_status_malformed(reply: bytes) -> None:
    with pytest.raises(StatusReplyError):
        parse_tspl_extended_status(reply)


def hs(one: str = "030,0,0,1245,000,0,0,0,000,0,0,0",
       two: str = "001,0,0,0,1,2,4,0,00000000,1,000", three: str = "1234,0") -> bytes:
    return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (one, two, three))


@pytest.mark.parametrize(("reply", "state", "detail"), [
    (hs(), S.OK, ()),
    (hs(one="030,1,1,1245,000,0,0,0,000,0,0,0"), S.PAPER_OUT, ("paper out", "paused")),
    (hs(one="030,0,1,1245,000,0,0,0,000,0,0,0"), S.PAUSED, ("paused",)),
    (hs(one="030,0,0,1245,000,1,0,0,000,0,0,0"), S.OK, ("buffer full",)),
    (hs(one="030,0,0,1245,000,0,0,0,000,0,0,1"), S.ERROR, ("over temperature",)),
    (hs(one="030,0,0,1245,000,0,0,0,000,1,0,0"), S.ERROR, ("corrupt RAM",)),
    (hs(two="001,0,1,0,1,2,4,0,00000000,1,000"), S.COVER_OPEN, ("head open",)),
    (hs(two="001,0,0,1,1,2,4,0,00000000,1,000"), S.RIBBON_OUT, ("ribbon out",)),
    (hs(two="001,0,0,0,1,2,4,1,00000003,1,000"), S.OK, ("3 labels remaining",)),
])
def test_zpl_host_status(reply: bytes, state: S, detail: tuple[str, ...]) -> None:
    assert parse_zpl_host_status(reply) == PrinterStatus(state, detail)


@pytest.mark.parametrize("reply", [
    hs()[:-10],
    hs() + b"\x02x\x03\r\n",
    hs(one="030,2,0,1245,000,0,0,0,000,0,0,0"),
    hs(one="030,0"),
    hs(two="001,0,0,0,1,2,4,0,0000000X,1,000"),
    b"garbage",
])
def test_zpl_host_status_malformed(reply: bytes) -> None:
    with pytest.raises(StatusReplyError):
        parse_zpl_host_status(reply)


def test_reader_frames_replies_split_anywhere() -> None:
    reader = StatusReader(ZPL_HOST_STATUS_QUERY)
    stream = b"noise" + hs() + hs(one="030,1,1,1245,000,0,0,0,000,0,0,0")
    got = [s for i in range(len(stream)) for s in reader.feed(stream[i:i + 1])]
    assert [s.state for s in got] == [S.OK, S.PAPER_OUT]
    ext_reader = StatusReader(TSPL_EXTENDED_QUERY)
    assert [s.state for s in ext_reader.feed(b"\x00" + ext(b"@@@A") + ext(b"@@@@"))] == \
        [S.PAPER_OUT, S.OK]
    assert [s.state for s in StatusReader(TSPL_STATUS_QUERY).feed(b"\x00\x04")] == \
        [S.OK, S.PAPER_OUT]


def test_reader_refuses_unknown_query() -> None:
    with pytest.raises(ValueError, match="unknown status query"):
        StatusReader(b"\x10\x04\x01")


def outcome(query: bytes, chunks: list[bytes]) -> tuple[list[PrinterStatus], bool]:
    reader = StatusReader(query)
    got: list[PrinterStatus] = []
    try:
        for c in chunks:
            got += reader.feed(c)
    except StatusReplyError:
        return [], True
    return got, False


replies = st.one_of(
    st.sampled_from([hs(), hs(one="030,1,1,1245,000,0,0,0,000,0,0,0"), ext(b"@@@@"),
                     ext(b"`@@A"), b"\x04", b"\x02", b"\x03\r\n"]),
    st.binary(max_size=12),
)


@given(st.sampled_from([TSPL_STATUS_QUERY, TSPL_EXTENDED_QUERY, ZPL_HOST_STATUS_QUERY]),
       st.lists(replies, max_size=8), st.lists(st.integers(0, 400), max_size=6))
def test_any_chunking_gives_the_same_result(query: bytes, parts: list[bytes],
                                            cuts: list[int]) -> None:
    stream = b"".join(parts)
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert outcome(query, chunks) == outcome(query, [stream])


@given(st.binary(max_size=600))
def test_random_bytes_raise_only_the_documented_error(data: bytes) -> None:
    for parse in (parse_tspl_status, parse_tspl_extended_status, parse_zpl_host_status):
        with contextlib.suppress(StatusReplyError):
            parse(data)
    for query in (TSPL_STATUS_QUERY, TSPL_EXTENDED_QUERY, ZPL_HOST_STATUS_QUERY):
        outcome(query, [data])
