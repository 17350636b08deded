"""Customer display simulators: sans-I/O parsing of what the encoders send, and pty round trips."""

from __future__ import annotations

import io
import itertools
import re
import threading

import pytest
import serial
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.display import price, vfd
from drivers.display.price import Lamp
from drivers.sim.display import PriceDisplayModel, VfdDisplayModel, run_display_sim
from drivers.sim.model import DeviceModel
from drivers.sim.shells import PtyShell
from tests.drivers.polling import wait_for

DEADLINE_S = 20.0


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def test_models_satisfy_the_device_model_contract() -> None:
    models: list[DeviceModel] = [VfdDisplayModel(), PriceDisplayModel()]
    for model in models:
        assert model.connected and model.reply_delay == 0.0
        assert model.receive(b"\x1b@") == b""
        model.end_of_stream()


def test_vfd_shows_the_two_chinese_lines() -> None:
    model = VfdDisplayModel()
    model.receive(vfd.setup() + vfd.show_lines("不锈钢合页 4寸", vfd.label_value("合计", "¥12.50")))
    assert model.lines == ("不锈钢合页 4寸      ", "合计         ￥12.50")
    assert model.mode == 1 and not model.cursor_shown


def test_vfd_clear_cursor_and_wrap() -> None:
    model = VfdDisplayModel()
    model.receive(b"X" * 25)  # overwrite mode wraps onto the lower line
    assert model.lines == ("X" * 20, "XXXXX" + " " * 15)
    model.receive(vfd.clear() + vfd.move_cursor(19, 2) + "找".encode("gb18030"))
    assert model.lines == (" " * 20, " " * 18 + "找")
    assert model.cursor == (1, 1)  # wrapped past the last cell back to the top
    model.receive(vfd.move_cursor(1, 2) + b"\x18")
    assert model.lines == (" " * 20, " " * 20)


def test_vfd_vertical_scroll_mode() -> None:
    model = VfdDisplayModel()
    model.receive(vfd.vertical_scroll_mode() + b"first\r\nsecond\r\nthird")
    assert model.lines == ("second" + " " * 14, "third" + " " * 15)


def test_vfd_counts_what_it_does_not_know() -> None:
    model = VfdDisplayModel()
    model.receive(b"\x1bZ\x1f\x7f\x07" + vfd.move_cursor(1, 1) + b"ok")
    assert model.unknown == 3
    assert model.lines[0].startswith("ok")


def test_price_display_shows_lamp_and_amount() -> None:
    model = PriceDisplayModel()
    model.receive(price.init() + price.show_amount(Lamp.from_label("找零"), 350))
    assert (model.lamp, model.lamp.label, model.number, model.amount_fen) == (
        Lamp.CHANGE,
        "找零",
        "3.50",
        350,
    )
    model.receive(price.clear())
    assert model.number == "" and model.amount_fen is None and model.lamp.label == "找零"
    model.receive(price.init())
    assert model.lamp is Lamp.OFF


def test_price_display_rejects_garbage_numbers_and_runaway_lines() -> None:
    model = PriceDisplayModel()
    model.receive(price.show_amount(Lamp.TOTAL, 5300))
    model.receive(b"\x1bQA12a\r")  # not a number: kept the old one
    model.receive(b"\x1bQA" + b"9" * 40)  # no CR in sight: dropped as noise
    assert model.number == "53.00"
    assert model.unknown > 1


vfd_streams = st.lists(
    st.one_of(
        st.tuples(st.text(max_size=12), st.text(max_size=12)).map(lambda t: vfd.show_lines(*t)),
        st.sampled_from(
            [vfd.init(), vfd.clear(), vfd.overwrite_mode(), vfd.vertical_scroll_mode(), b"\r\n"]
        ),
        st.builds(vfd.move_cursor, st.integers(1, 20), st.integers(1, 2)),
        st.binary(max_size=6),
    ),
    max_size=8,
).map(b"".join)


@given(stream=vfd_streams, cuts=st.lists(st.integers(), max_size=20))
def test_vfd_any_chunking_gives_the_same_screen(stream: bytes, cuts: list[int]) -> None:
    whole, chunked = VfdDisplayModel(), VfdDisplayModel()
    whole.receive(stream)
    for chunk in chunks(stream, cuts):
        chunked.receive(chunk)
    assert (chunked.cells, chunked.cursor, chunked.unknown) == (
        whole.cells,
        whole.cursor,
        whole.unknown,
    )


@given(upper=st.text(max_size=25), lower=st.text(max_size=25))
def test_vfd_shows_what_the_encoder_fits(upper: str, lower: str) -> None:
    model = VfdDisplayModel()
    model.receive(vfd.setup() + vfd.show_lines(upper, lower))
    assert model.cells == (vfd.fit(upper), vfd.fit(lower))


price_streams = st.lists(
    st.one_of(
        st.builds(price.show_amount, st.sampled_from(list(Lamp)), st.integers(0, 99_999_999)),
        st.sampled_from([price.init(), price.clear(), b"\x1bs9", b"\x1bQ"]),
        st.binary(max_size=6),
    ),
    max_size=8,
).map(b"".join)


@given(stream=price_streams, cuts=st.lists(st.integers(), max_size=20))
def test_price_any_chunking_gives_the_same_state(stream: bytes, cuts: list[int]) -> None:
    whole, chunked = PriceDisplayModel(), PriceDisplayModel()
    whole.receive(stream)
    for chunk in chunks(stream, cuts):
        chunked.receive(chunk)
    assert (chunked.lamp, chunked.number, chunked.unknown) == (
        whole.lamp,
        whole.number,
        whole.unknown,
    )


@given(fen=st.integers(0, 99_999_999), lamp=st.sampled_from(list(Lamp)))
def test_price_round_trip(fen: int, lamp: Lamp) -> None:
    model = PriceDisplayModel()
    model.receive(price.show_amount(lamp, fen))
    assert (model.lamp, model.amount_fen) == (lamp, fen)


def test_vfd_round_trip_over_a_pty() -> None:
    model = VfdDisplayModel()
    with PtyShell(model) as shell, serial.Serial(shell.device_path, 9600, timeout=1) as port:
        port.write(
            vfd.setup() + vfd.show_lines("静音抽屉滑轨 三节", vfd.label_value("单价", "¥36.00"))
        )
        port.flush()
        wait_for(lambda: model.lines[1].endswith("36.00"), "the second line")
    assert model.lines == ("静音抽屉滑轨 三节   ", "单价         ￥36.00")


def test_price_round_trip_over_a_pty() -> None:
    model = PriceDisplayModel()
    with PtyShell(model) as shell, serial.Serial(shell.device_path, 2400, timeout=1) as port:
        for chunk in (price.init(), price.show_amount(Lamp.TOTAL, 5300), b"\x1bs", b"3"):
            port.write(chunk)
        port.flush()
        wait_for(lambda: model.lamp is Lamp.RECEIVED, "the 收款 lamp")
    assert (model.lamp.label, model.number) == ("收款", "53.00")


def test_run_display_sim_prints_what_the_display_shows() -> None:
    announce = io.StringIO()
    stop = threading.Event()
    worker = threading.Thread(target=run_display_sim, args=("price", announce, stop))
    worker.start()
    try:
        wait_for(lambda: "customer display on" in announce.getvalue(), "the port announcement")
        match = re.search(r"on (\S+)", announce.getvalue())
        assert match is not None
        with serial.Serial(match.group(1), timeout=1) as port:
            port.write(price.show_amount(Lamp.CHANGE, 350))
            port.flush()
            wait_for(lambda: "[找零] 3.50" in announce.getvalue(), "the printed state")
    finally:
        stop.set()
        worker.join(DEADLINE_S)


def test_run_display_sim_rejects_an_unknown_kind() -> None:
    with pytest.raises(InvalidInput):
        run_display_sim("oled", io.StringIO(), threading.Event())
