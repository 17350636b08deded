"""Log lines under systemd carry their syslog priority for journald, Chinese intact."""

from __future__ import annotations

import logging

from sync.service import JournaldFormatter


def line(level: int, msg: str) -> str:
    rec = logging.LogRecord("agent.uplink.link", level, __file__, 1, msg, None, None)
    return JournaldFormatter("%(message)s").format(rec)


def test_priorities_and_name() -> None:
    assert line(logging.ERROR, "看门狗停止喂狗 / watchdog not fed") == \
        "<3>agent.uplink.link: 看门狗停止喂狗 / watchdog not fed"
    assert line(logging.WARNING, "x").startswith("<4>")
    assert line(logging.INFO, "HQ 链路已连接 / HQ link up").startswith("<6>agent.uplink.link: HQ")
    assert line(logging.DEBUG, "x").startswith("<7>")
