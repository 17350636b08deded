"""Simulated TSPL / ZPL label printers: status from state, labels kept, split and rendered;
alone and behind a real TCP socket and a real pty."""

from __future__ import annotations

import io
import os
import select
import socket

import pytest
import zxingcpp
from PIL import Image

from drivers import InvalidInput
from drivers.label.drawing import DrawText
from drivers.label.flowcard import FlowCard, parse_flow_card
from drivers.label.interpret import encode_label
from drivers.label.status import (
    TSPL_EXTENDED_QUERY,
    TSPL_STATUS_QUERY,
    ZPL_HOST_STATUS_QUERY,
    StatusReader,
    parse_tspl_extended_status,
    parse_tspl_status,
    parse_zpl_host_status,
)
from drivers.label.templates import flow_card, shipping_label
from drivers.printer_state import PrinterState as S
from drivers.printer_state import PrinterStatus
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimLabelPrinter, SimTsplPrinter, SimZplPrinter
from drivers.sim.shells import PtyShell, TcpShell
from tests.drivers.polling import wait_for

DEADLINE = 30.0
FLOW = {"task_no": "SC-20261129-001", "split": "3/13", "product_code": "CP-8801",
        "product_name": "不锈钢门铰链 组件", "qty": 80,
        "route": [{"step": 10, "name": "下料"}, {"step": 20, "name": "冲压"},
                  {"step": 30, "name": "焊接"}], "date": "2026-11-29"}
SHIP = {"order_no": "XS-20261129-0042", "customer": "永盛家装", "customer_id": "K003",
        "address": "重庆市江北区建新北路16号", "phone": "13700137003", "parcel": "2/4",
        "route": "江北-观音桥线"}
STATE_OF = {"ok": S.OK, "paper_out": S.PAPER_OUT, "head_open": S.COVER_OPEN,
            "ribbon_out": S.RIBBON_OUT, "paused": S.PAUSED}


def scan(img: Image.Image) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(img)}


@pytest.mark.parametrize("state", list(STATE_OF))
def test_status_answers_follow_the_state(state: str) -> None:
    tspl, zpl = SimTsplPrinter(state=state), SimZplPrinter(state=state)
    assert parse_tspl_status(tspl.receive(TSPL_STATUS_QUERY)).state == STATE_OF[state]
    assert parse_tspl_extended_status(tspl.receive(TSPL_EXTENDED_QUERY)).state == STATE_OF[state]
    assert parse_zpl_host_status(zpl.receive(ZPL_HOST_STATUS_QUERY)).state == STATE_OF[state]
    assert tspl.ready == zpl.ready == (state == "ok")


def test_states_connected_and_slow() -> None:
    printer = SimTsplPrinter(slow_delay=1.5)
    assert printer.connected and printer.reply_delay == 0 and printer.read_pause == 0
    printer.state = "disconnected"
    assert not printer.connected
    printer.state = "slow"
    assert printer.reply_delay == 1.5 and printer.read_pause > 0
    with pytest.raises(InvalidInput, match="must be one of"):
        printer.state = "on fire"
    with pytest.raises(InvalidInput, match="not a zpl printer"):
        SimZplPrinter(get_profile("tspl-203"))


def test_tspl_printer_keeps_splits_and_renders_labels() -> None:
    printer = SimTsplPrinter()
    job = encode_label(flow_card(FLOW), printer.profile)
    job2 = encode_label(shipping_label(SHIP), printer.profile)
    stream = job + TSPL_STATUS_QUERY + job2
    replies = b"".join(printer.receive(stream[i:i + 7]) for i in range(0, len(stream), 7))
    assert replies == b"\x00"
    assert bytes(printer.received) == stream
    assert len(printer.labels) == 2 and printer.rejected == [] and printer.queries == ["!?"]
    first = printer.render(0)
    assert first.size == (480, 320)
    assert parse_flow_card(next(iter(scan(first)))) == FlowCard("SC-20261129-001", 3, 13, 80)
    assert scan(printer.render(1)) == {"XS-20261129-0042"}
    texts = {e.text for e in printer.labels[1].elements if isinstance(e, DrawText)}
    assert {"永盛家装", "电话 137****7003", "地址 重庆市江北区建新北路16号"} <= texts
    with Image.open(io.BytesIO(printer.png(1))) as png:
        assert png.format == "PNG" and png.size == (799, 559)


def test_status_query_inside_bitmap_data_is_not_answered() -> None:
    printer = SimTsplPrinter()
    reply = printer.receive(b"CLS\r\nBITMAP 0,0,3,1,1,\x1b!?\r\n\x1b!")
    assert reply == b""
    assert printer.receive(b"?PRINT 1,1\r\n") == b"\x00"
    (label,) = printer.labels
    assert len(label.elements) == 1


def test_labels_sent_while_not_ready_are_rejected() -> None:
    for printer in (SimTsplPrinter(state="paper_out"), SimZplPrinter(state="head_open")):
        printer.receive(encode_label(shipping_label(SHIP), printer.profile))
        assert printer.labels == [] and len(printer.rejected) == 1
        printer.state = "ok"
        printer.receive(encode_label(shipping_label(SHIP), printer.profile))
        assert len(printer.labels) == 1


def test_last_line_without_line_feed_is_printed_at_end_of_stream() -> None:
    printer = SimTsplPrinter()
    printer.receive(b"SIZE 40 mm,30 mm\r\nCLS\r\nBAR 0,0,10,10\r\nPRINT 1,2")
    assert printer.labels == []
    printer.end_of_stream()
    assert len(printer.labels) == 1 and printer.labels[0].copies == 2


@pytest.mark.parametrize("profile", ["zpl-203", "zpl-300-cjk"])
def test_zpl_printer_renders_chinese_legibly(profile: str) -> None:
    printer = SimZplPrinter(get_profile(profile))
    printer.receive(encode_label(shipping_label(SHIP), printer.profile) + b"~HI")
    assert printer.queries == ["~HI"]
    (label,) = printer.labels
    texts = {e.text for e in label.elements if isinstance(e, DrawText)}
    assert texts == (set() if profile == "zpl-203" else {
        "订单 XS-20261129-0042", "2/4", "线路 江北-观音桥线", "永盛家装", "客户编号 K003",
        "地址 重庆市江北区建新北路16号", "电话 137****7003"})
    assert scan(printer.render()) == {"XS-20261129-0042"}


def test_notices_are_kept_for_garbage() -> None:
    printer: SimLabelPrinter = SimTsplPrinter()
    printer.receive(b"FROB 1\r\n\x00\xff\r\n")
    assert printer.notices[0] == "unknown command FROB"


def read_status(sock: socket.socket, reader: StatusReader) -> PrinterStatus:
    sock.settimeout(DEADLINE)
    while True:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before a full reply"
        got = reader.feed(chunk)
        if got:
            assert len(got) == 1
            return got[0]


def test_over_tcp_status_and_labels() -> None:
    printer = SimZplPrinter()
    with TcpShell(printer) as shell, socket.create_connection(("127.0.0.1", shell.port)) as s:
        s.sendall(ZPL_HOST_STATUS_QUERY)
        reader = StatusReader(ZPL_HOST_STATUS_QUERY)
        assert read_status(s, reader).state == S.OK
        printer.state = "paper_out"
        s.sendall(ZPL_HOST_STATUS_QUERY)
        status = read_status(s, reader)
        assert status.state == S.PAPER_OUT and "paused" in status.detail
        printer.state = "ok"
        s.sendall(encode_label(flow_card(FLOW), printer.profile))
        wait_for(lambda: len(printer.labels) == 1, "the label over TCP")
    assert parse_flow_card(next(iter(scan(printer.render())))).qty == 80


def test_over_a_pty() -> None:
    printer = SimTsplPrinter()
    with PtyShell(printer) as shell:
        fd = os.open(shell.device_path, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, TSPL_STATUS_QUERY)
            ready, _, _ = select.select([fd], [], [], DEADLINE)
            assert ready and parse_tspl_status(os.read(fd, 1)).state == S.OK
            os.write(fd, encode_label(shipping_label(SHIP), printer.profile))
            wait_for(lambda: len(printer.labels) == 1, "the label over the pty")
        finally:
            os.close(fd)
    assert scan(printer.render()) == {"XS-20261129-0042"}
