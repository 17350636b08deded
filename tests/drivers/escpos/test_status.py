"""DLE EOT status replies: every bit, precedence, missing replies, a chunk-proof reader."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import DriverError
from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import StatusRequest
from drivers.escpos.status import (
    STATUS_QUERY,
    InvalidReply,
    StatusReader,
    is_status_byte,
    parse_status,
)
from drivers.printer_state import OFFLINE, PrinterState, PrinterStatus
from drivers.profiles import get_profile

OK = 0x12  # bits 1 and 4 set: a reply with nothing to report
S = PrinterState


def status(r1: int | None = OK, r2: int | None = OK, r3: int | None = OK,
           r4: int | None = OK) -> PrinterStatus:
    return parse_status([r1, r2, r3, r4])


def test_all_quiet_is_ok() -> None:
    assert status() == PrinterStatus(S.OK, (), False)
    assert status().ready


@pytest.mark.parametrize(("replies", "state", "detail"), [
    ((0x16, OK, OK, OK), S.OK, ()),  # n=1 bit 2: drawer pin 3 high
    ((0x1A, OK, OK, OK), S.OFFLINE, ("offline",)),  # n=1 bit 3
    ((OK, 0x16, OK, OK), S.COVER_OPEN, ("cover_open",)),  # n=2 bit 2
    ((OK, 0x1A, OK, OK), S.OK, ("feed_button",)),  # n=2 bit 3
    ((OK, 0x32, OK, OK), S.PAPER_OUT, ("paper_end_stop",)),  # n=2 bit 5
    ((OK, 0x52, OK, OK), S.ERROR, ("error",)),  # n=2 bit 6
    ((OK, OK, 0x16, OK), S.ERROR, ("recoverable_error",)),  # n=3 bit 2
    ((OK, OK, 0x1A, OK), S.ERROR, ("cutter_error",)),  # n=3 bit 3
    ((OK, OK, 0x32, OK), S.ERROR, ("unrecoverable_error",)),  # n=3 bit 5
    ((OK, OK, 0x52, OK), S.ERROR, ("auto_recoverable_error",)),  # n=3 bit 6
    ((OK, OK, OK, 0x1E), S.PAPER_LOW, ("paper_low",)),  # n=4 bits 2-3
    ((OK, OK, OK, 0x16), S.PAPER_LOW, ("paper_low",)),  # n=4 bit 2 alone
    ((OK, OK, OK, 0x1A), S.PAPER_LOW, ("paper_low",)),  # n=4 bit 3 alone
    ((OK, OK, OK, 0x72), S.PAPER_OUT, ("paper_out",)),  # n=4 bits 5-6
    ((OK, OK, OK, 0x7E), S.PAPER_OUT, ("paper_out",)),  # near end and end: end wins
    ((OK, OK, OK, 0x32), S.PAPER_OUT, ("paper_out",)),  # n=4 bit 5 alone
])
def test_each_bit(replies: tuple[int, int, int, int], state: PrinterState,
                  detail: tuple[str, ...]) -> None:
    got = parse_status(replies)
    assert (got.state, got.detail) == (state, detail)


def test_drawer_bit() -> None:
    assert status(0x16).drawer_open is True
    assert status(0x12).drawer_open is False
    assert status(None).drawer_open is None


@pytest.mark.parametrize(("replies", "state"), [
    ((0x1A, 0x16, OK, 0x72), S.COVER_OPEN),  # offline because the cover is open, paper out too
    ((0x1A, 0x32, OK, 0x72), S.PAPER_OUT),  # offline because of paper end
    ((0x1A, 0x52, 0x1A, OK), S.ERROR),  # offline because of a cutter error
    ((0x1A, 0x1A, OK, OK), S.OFFLINE),  # offline while the feed button is held: no cause
    ((OK, 0x16, 0x1A, 0x72), S.COVER_OPEN),  # cover_open > paper_out > error
    ((OK, 0x52, OK, 0x72), S.PAPER_OUT),  # paper_out > error
    ((OK, OK, 0x1A, 0x1E), S.ERROR),  # error > paper_low
])
def test_precedence(replies: tuple[int, int, int, int], state: PrinterState) -> None:
    assert parse_status(replies).state == state


def test_detail_lists_every_condition_in_a_fixed_order() -> None:
    got = status(0x1E, 0x16, 0x1A, 0x72)
    assert got.detail == ("offline", "cover_open", "cutter_error", "paper_out")
    assert got.drawer_open is True


def test_no_reply_to_the_first_query_is_offline() -> None:
    assert status(None) == OFFLINE
    assert status(None, None, None, None) == OFFLINE
    assert not status(None).ready


def test_missing_later_replies_are_noted_and_do_not_hide_what_is_known() -> None:
    got = status(OK, 0x16, None, None)
    assert got.state == S.COVER_OPEN
    assert got.detail == ("cover_open", "no reply to DLE EOT 3", "no reply to DLE EOT 4")


@pytest.mark.parametrize("bad", [0x13, 0x92, 0x10, 0x02, 0x00, 0xFF])
@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_invalid_bytes_name_the_query(bad: int, which: int) -> None:
    replies: list[int | None] = [OK, OK, OK, OK]
    replies[which] = bad
    with pytest.raises(InvalidReply) as info:
        parse_status(replies)
    assert info.value.query == which + 1 and info.value.value == bad
    assert isinstance(info.value, DriverError)
    assert f"DLE EOT {which + 1}" in str(info.value)


def test_wrong_number_of_replies_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="four"):
        parse_status([OK, OK])


def test_fixed_bits() -> None:
    assert [v for v in range(256) if is_status_byte(v)] == sorted(
        0x12 | a | b | c | d for a in (0, 4) for b in (0, 8) for c in (0, 0x20) for d in (0, 0x40))


def test_status_query_is_the_four_dle_eot_commands() -> None:
    interp = EscposInterpreter(get_profile("generic-cn-80"))
    interp.feed(STATUS_QUERY)
    assert interp.events() == [StatusRequest(n) for n in (1, 2, 3, 4)]


# -- StatusReader -------------------------------------------------------------------------------
def test_reader_collects_four_replies() -> None:
    reader = StatusReader()
    reader.feed(bytes([0x16, 0x12]))
    assert not reader.complete and reader.replies() == (0x16, 0x12, None, None)
    reader.feed(bytes([0x12, 0x1E, 0x12]))
    assert reader.complete and reader.extra == 1
    assert reader.status() == PrinterStatus(S.PAPER_LOW, ("paper_low",), True)


def test_reader_with_nothing_is_offline() -> None:
    assert StatusReader().status() == OFFLINE


def test_reader_names_the_query_of_a_bad_byte() -> None:
    reader = StatusReader()
    reader.feed(b"\x12\x12")
    with pytest.raises(InvalidReply) as info:
        reader.feed(b"\x80")
    assert info.value.query == 3


reply_bytes = st.sampled_from([0x12, 0x16, 0x1A, 0x1E, 0x32, 0x52, 0x72, 0x7E])


@settings(max_examples=200, deadline=None)
@given(data=st.lists(reply_bytes, min_size=0, max_size=6).map(bytes), draw=st.data())
def test_reader_any_chunking_same_result(data: bytes, draw: st.DataObject) -> None:
    cuts = sorted(set(draw.draw(st.lists(st.integers(0, len(data)), max_size=5))))
    whole, pieces = StatusReader(), StatusReader()
    whole.feed(data)
    for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
        pieces.feed(data[a:b])
    assert pieces.replies() == whole.replies()
    assert pieces.status() == whole.status()
    assert whole.replies() == tuple([*data[:4], None, None, None, None][:4])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=8))
def test_random_bytes_raise_only_invalid_reply(data: bytes) -> None:
    reader = StatusReader()
    try:
        reader.feed(data)
    except InvalidReply as e:
        assert not is_status_byte(e.value)
        return
    reader.status()
