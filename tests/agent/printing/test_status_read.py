"""Asking a printer its status on a real socket: each state of the simulated ESC/POS printer
comes back as the value it is (label printers: tests/agent/printing/test_label_queue.py)."""

from __future__ import annotations

import pytest

from agent.printing.status_read import read_status
from drivers.printer_state import PrinterState
from drivers.transports.tcp import TcpTarget, TcpTransport
from tests.agent.conftest import SimFactory


@pytest.mark.parametrize(("state", "expected"), [
    ("ok", PrinterState.OK), ("paper_low", PrinterState.PAPER_LOW),
    ("paper_out", PrinterState.PAPER_OUT), ("cover_open", PrinterState.OFFLINE)])
def test_read_status_from_a_simulated_printer(sim_printer: SimFactory, state: str,
                                              expected: PrinterState) -> None:
    _, shell = sim_printer(state=state)
    t = TcpTransport(TcpTarget("127.0.0.1", shell.port, 1.0, 2.0))
    t.open()
    try:
        status = read_status(t, 0.5, 0.5)
    finally:
        t.close()
    assert status.state is expected and status.ready == (state in ("ok", "paper_low"))
