"""Printer problems and HQ link errors as store staff read them; the link's log lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent.health.explain import link_error_zh, printer_problem
from agent.health.link import LinkMonitor, LinkState
from drivers.printer_state import PrinterState
from drivers.transports.serial_port import SerialTarget
from drivers.transports.tcp import TcpTarget

NET = TcpTarget("192.168.1.50", 9100)


def test_an_unreachable_network_printer_names_the_cable_and_its_address() -> None:
    p = printer_problem(PrinterState.OFFLINE, False, NET)
    assert p is not None
    assert p.text == "打印机无响应：检查网线和 IP 192.168.1.50:9100"
    assert p.fix == "检查网线和 IP 192.168.1.50:9100"


def test_each_state_has_its_own_fix_and_ready_states_none() -> None:
    assert printer_problem(PrinterState.OK, True, NET) is None
    out = printer_problem(PrinterState.PAPER_OUT, True, NET)
    assert out is not None and out.text == "打印机缺纸：装入新纸卷后合上上盖"
    cover = printer_problem(PrinterState.COVER_OPEN, True, NET)
    assert cover is not None and cover.fix == "合上打印机上盖"
    serial = printer_problem(PrinterState.OFFLINE, False, SerialTarget("/dev/ttyUSB0"))
    assert serial is not None and "串口 /dev/ttyUSB0" in serial.text
    texts = {s: printer_problem(s, True, NET) for s in PrinterState if s is not PrinterState.OK}
    assert all(p is not None and "：" in p.text for p in texts.values())


def test_link_errors_in_chinese() -> None:
    assert link_error_zh("connect failed: [Errno 111] Connection refused") == \
        "HQ 服务器拒绝连接：MQTT 服务未运行或端口不对"
    assert "DNS" in link_error_zh("connect failed: [Errno -2] Name or service not known")
    assert "证书" in link_error_zh("connect failed: [SSL: CERTIFICATE_VERIFY_FAILED] verify")
    assert "身份" in link_error_zh("refused by broker: Not authorized")
    assert link_error_zh("something else") == "与 HQ 服务器的连接断开"
    assert link_error_zh("timed out", "MQTT 服务器") == "连接 MQTT 服务器超时：检查网络和防火墙"


def test_a_box_without_broker_says_so_once_and_its_recovery_once() -> None:
    m = LinkMonitor("127.0.0.1:1883", 1_000)
    first = m.failed("connect failed: [Errno 111] Connection refused", 1_500)
    assert first is not None and first.startswith("HQ 链路无法建立 / HQ link down:")
    assert "HQ 服务器拒绝连接" in first and "Errno 111" in first
    assert m.failed("connect failed: [Errno 111] Connection refused", 2_500) is None
    snap = m.snapshot()
    assert snap.state is LinkState.DOWN and snap.since_ms == 1_500 and snap.failures == 2
    assert snap.to_obj()["label"] == "断开"
    up = m.connected(11_500)
    assert up is not None and up.startswith("HQ 链路已恢复 / HQ link up again:")
    assert "after 10 s down" in up
    assert m.connected(12_000) is None


@given(st.lists(st.booleans(), max_size=40))
def test_one_line_per_change_for_any_sequence(events: list[bool]) -> None:
    m = LinkMonitor("hq:8883", 0)
    lines = [m.connected(t) if up else m.failed("timed out", t) for t, up in enumerate(events)]
    changes = sum(1 for i, up in enumerate(events) if i == 0 or events[i - 1] != up)
    assert sum(line is not None for line in lines) == changes
