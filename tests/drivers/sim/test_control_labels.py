"""`storelink sim printer --kind tspl|zpl`: label printers on TCP and pty, labels written as files,
the same control lines as the receipt printer."""

from __future__ import annotations

import io
import os
import socket
import threading
from pathlib import Path

import pytest
import serial
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers import InvalidInput
from drivers.label.drawing import ParsedLabel
from drivers.label.flowcard import parse_flow_card
from drivers.label.interpret import encode_label
from drivers.label.status import TSPL_STATUS_QUERY, ZPL_HOST_STATUS_QUERY, parse_tspl_status
from drivers.label.templates import flow_card, price_label
from drivers.printer_state import PrinterState
from drivers.profiles import get_profile
from drivers.sim.control import LabelRecorder, apply_control, profile_for, run_printer_sim
from drivers.sim.label_printer import SimTsplPrinter, SimZplPrinter
from tests.drivers.polling import wait_for

pytestmark = pytest.mark.usefixtures("no_leaks")
DEADLINE = 30.0
FLOW = {"task_no": "SC-20261129-002", "split": "1/12", "product_code": "CP-3302",
        "product_name": "速冻手抓饼 20片装", "qty": 200,
        "route": [{"step": 10, "name": "和面"}, {"step": 20, "name": "压片"},
                  {"step": 30, "name": "速冻"}, {"step": 40, "name": "包装"}],
        "date": "2026-11-29"}
FLOW_QR = "SLFC1:SC-20261129-002:1/12:200:IF2SSCQJ"
PRICE = {"name": "猪肉白菜水饺", "spec": "1kg/袋", "unit": "袋", "price": 2590,
         "member_price": 2390, "barcode": "6902345600010", "sku": "DP-1001"}
TSPL, ZPL = get_profile("tspl-203"), get_profile("zpl-300-cjk")
TSPL_FLOW, TSPL_PRICE = encode_label(flow_card(FLOW), TSPL), encode_label(price_label(PRICE), TSPL)
ZPL_FLOW, ZPL_PRICE = encode_label(flow_card(FLOW), ZPL), encode_label(price_label(PRICE), ZPL)


def scanned(path: Path) -> set[str]:
    with Image.open(path) as img:
        return {r.text for r in zxingcpp.read_barcodes(img.convert("L"))}


def test_profile_for_replaces_a_profile_of_another_language() -> None:
    assert profile_for("tspl", "tspl-300") == (get_profile("tspl-300"), None)
    assert profile_for("zpl", "zpl-300-cjk") == (get_profile("zpl-300-cjk"), None)
    profile, note = profile_for("tspl", "generic-cn-80")
    assert profile.name == "tspl-203" and note is not None and "generic-cn-80" in note
    assert profile_for("zpl", "tspl-300")[0].name == "zpl-203"
    assert profile_for("escpos", "zpl-203")[0].name == "generic-cn-80"
    with pytest.raises(InvalidInput) as e:
        profile_for("epl", "tspl-203")
    assert e.value.field == "kind"


def test_apply_control_on_a_label_printer() -> None:
    recorder = LabelRecorder(SimZplPrinter(), lambda *_: None)
    assert apply_control(recorder, "state head_open\n") == "state head_open"
    assert recorder.model.state == "head_open" and not recorder.model.ready
    assert apply_control(recorder, "state paper_low").startswith("error:")  # not a label state
    assert apply_control(recorder, "status") == "state head_open"
    assert apply_control(recorder, "jobs") == "labels 0 printed, 0 dropped"
    answer = apply_control(recorder, "dance")
    assert answer.startswith("error:") and "ribbon_out" in answer


Seen = list[tuple[int, str, bool, bytes]]


def record(model: SimTsplPrinter | SimZplPrinter) -> tuple[LabelRecorder, Seen]:
    seen: Seen = []

    def on_label(n: int, label: ParsedLabel, printed: bool, data: bytes) -> None:
        seen.append((n, label.language, printed, data))

    return LabelRecorder(model, on_label), seen


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=1), min_size=0, max_size=4000))
def test_any_chunking_gives_the_same_labels_bytes_and_answers(cuts: list[int]) -> None:
    for query, first, second in ((TSPL_STATUS_QUERY, TSPL_FLOW, TSPL_PRICE),
                                 (ZPL_HOST_STATUS_QUERY, ZPL_FLOW, ZPL_PRICE)):
        stream = query + first + query + second + query
        model = SimTsplPrinter() if query == TSPL_STATUS_QUERY else SimZplPrinter(ZPL)
        recorder, seen = record(model)
        reply = bytearray()
        start = 0
        for i, cut in enumerate(cuts[:len(stream)]):
            if cut:
                reply += recorder.receive(stream[start:i + 1])
                start = i + 1
        reply += recorder.receive(stream[start:])
        recorder.end_of_stream()
        assert [(n, printed) for n, _, printed, _ in seen] == [(1, True), (2, True)]
        # A line end right after ^XZ may arrive after the label ended: it is not kept.
        assert seen[0][3].rstrip(b"\n") == first.rstrip(b"\n")
        assert seen[1][3].rstrip(b"\n") == second.rstrip(b"\n")
        assert len(model.queries) == 3 and len(reply) == 3 * len(model.answer(model.queries[0]))


def test_labels_sent_while_not_ready_are_counted_as_dropped() -> None:
    model = SimTsplPrinter(state="ribbon_out")
    recorder, seen = record(model)
    assert recorder.receive(TSPL_FLOW + TSPL_STATUS_QUERY) == b"\x08"
    model.state = "ok"
    recorder.receive(TSPL_PRICE + TSPL_FLOW)
    assert [(n, printed) for n, _, printed, _ in seen] == [(1, False), (2, True), (3, True)]
    assert [d for *_, d in seen] == [TSPL_FLOW, TSPL_PRICE, TSPL_FLOW]
    assert (recorder.printed, recorder.dropped) == (2, 1)
    assert apply_control(recorder, "jobs") == "labels 2 printed, 1 dropped"


class SimRun:
    """run_printer_sim in a thread with a pipe for its stdin and a buffer for its stdout."""

    def __init__(self, out_dir: Path, **kwargs: object) -> None:
        r, w = os.pipe()
        self.stdin, self.control = os.fdopen(r, "r"), os.fdopen(w, "w")
        self.stdout = io.StringIO()
        self.stop = threading.Event()
        self.codes: list[int] = []
        self.thread = threading.Thread(target=lambda: self.codes.append(run_printer_sim(
            out_dir=out_dir, stdin=self.stdin, stdout=self.stdout, stop=self.stop,
            **kwargs)))  # type: ignore[arg-type]

    def lines(self) -> list[str]:
        return self.stdout.getvalue().splitlines()

    def say(self, line: str, answer: str) -> None:
        self.control.write(line + "\n")
        self.control.flush()
        wait_for(lambda: answer in self.lines(), f"the answer {answer!r}")

    def __enter__(self) -> SimRun:
        self.thread.start()
        wait_for(lambda: any(ln.startswith("listening ") for ln in self.lines()), "the banner")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(DEADLINE)
        self.control.close()  # EOF ends the control thread
        wait_for(lambda: all(t.name != "sim-control" for t in threading.enumerate()),
                 "the control thread")
        self.stdin.close()
        assert self.codes == [0]


def test_tspl_on_tcp_writes_labels_and_takes_control_lines(tmp_path: Path) -> None:
    with SimRun(tmp_path, kind="tspl", port=0) as sim:
        banner, note = sim.lines()[:2]
        assert note == "profile tspl-203 (generic-cn-80 speaks escpos, not tspl)"
        port = int(banner.split()[3])
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(TSPL_STATUS_QUERY)
            s.settimeout(DEADLINE)
            assert parse_tspl_status(s.recv(1)).state is PrinterState.OK
            s.sendall(TSPL_FLOW)
            wait_for((tmp_path / "label-0001.png").exists, "label-0001.png")
            sim.say("state head_open", "state head_open")
            s.sendall(TSPL_STATUS_QUERY)
            assert parse_tspl_status(s.recv(1)).state is PrinterState.COVER_OPEN
            s.sendall(TSPL_PRICE)
            wait_for((tmp_path / "label-0002-dropped.bin").exists, "the dropped label")
        sim.say("jobs", "labels 1 printed, 1 dropped")
        sim.say("state cover_open", "error: state: must be one of ok, paper_out, head_open, "
                                    "ribbon_out, paused, disconnected, slow")
    assert (tmp_path / "label-0001.bin").read_bytes() == TSPL_FLOW
    assert (tmp_path / "label-0002-dropped.bin").read_bytes() == TSPL_PRICE
    assert not (tmp_path / "label-0002.png").exists()
    assert scanned(tmp_path / "label-0001.png") == {FLOW_QR}
    assert parse_flow_card(FLOW_QR).qty == 200
    assert f"label 1 printed {tmp_path / 'label-0001.bin'} {tmp_path / 'label-0001.png'}" \
        in sim.lines()


def test_zpl_on_a_pty_writes_labels(tmp_path: Path) -> None:
    with SimRun(tmp_path, kind="zpl", profile_name="zpl-300-cjk", pty=True,
                state="paper_out") as sim:
        assert len(sim.lines()) == 1  # the profile is a zpl one: no note
        path = sim.lines()[0].split()[2]
        with serial.Serial(path, 115200, timeout=DEADLINE) as port:
            port.write(ZPL_PRICE)
            wait_for((tmp_path / "label-0001-dropped.bin").exists, "the dropped label")
            sim.say("state ok", "state ok")
            port.write(ZPL_HOST_STATUS_QUERY + ZPL_PRICE)
            wait_for((tmp_path / "label-0002.png").exists, "label-0002.png")
            assert b"\x02" in port.read(1)
    assert scanned(tmp_path / "label-0002.png") == {"6902345600010"}
    # The line end after ^XZ is the label's when it arrives in the same read as ^XZ.
    assert (tmp_path / "label-0002.bin").read_bytes().rstrip(b"\n") == ZPL_PRICE.rstrip(b"\n")
    with Image.open(tmp_path / "label-0002.png") as img:
        assert img.size == (709, 472)  # 60 × 40 mm at 300 dpi
