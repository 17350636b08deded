"""Shared fixtures for agent tests: simulated printers on real TCP ports and box configs."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from agent.config import Config, parse_config

if TYPE_CHECKING:
    from agent.api.context import AgentContext
    from drivers.sim.model import DeviceModel
    from drivers.sim.printer import SimEscposPrinter
    from drivers.sim.shells import TcpShell

Client = TestClient[web.Request, web.Application]
SimFactory = Callable[..., "tuple[SimEscposPrinter, TcpShell]"]
ESC_INIT, CUT = b"\x1b@", b"\x1dVA\x00"


@contextlib.contextmanager
def tcp_shells() -> Iterator[Callable[[DeviceModel], TcpShell]]:
    """Serve device models on free 127.0.0.1 ports with `serve(model)`; all stop at the end."""
    from drivers.sim.shells import TcpShell

    shells: list[TcpShell] = []

    def serve(model: DeviceModel) -> TcpShell:
        shell = TcpShell(model)
        shell.start()
        shells.append(shell)
        return shell

    try:
        yield serve
    finally:
        for shell in shells:
            shell.stop()


@pytest.fixture
def sim_printer() -> Iterator[SimFactory]:
    """Start simulated ESC/POS printers on free 127.0.0.1 ports; all stop after the test."""
    from drivers.profiles import get_profile
    from drivers.sim.printer import SimEscposPrinter

    with tcp_shells() as serve:
        def make(state: str = "ok", profile: str = "generic-cn-80") -> tuple[SimEscposPrinter,
                                                                             TcpShell]:
            model = SimEscposPrinter(get_profile(profile), state)
            return model, serve(model)

        yield make


def free_port() -> int:
    """A TCP port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def box_config(state_dir: Path, printers: Mapping[str, int], *, poll_s: float = 0.2,
               backoff_max_s: float = 1.0, token: str = "", api_port: int = 8470,
               default_expiry_s: int = 900, profile: str = "generic-cn-80") -> Config:
    """A box config with one TCP printer per (id → port) on 127.0.0.1."""
    raw: dict[str, object] = {
        "box": {"id": "CQ-JB-001-B1", "store": "重庆江北建材旗舰店", "name": "江北店前台",
                "state_dir": str(state_dir)},
        "api": {"listen": "127.0.0.1", "port": api_port, "token": token},
        "queue": {"poll_interval_s": poll_s, "backoff_max_s": backoff_max_s,
                  "default_expiry_s": default_expiry_s},
        "printers": [{"id": pid, "name": f"{pid} 打印机", "profile": profile,
                      "transport": "tcp", "host": "127.0.0.1", "port": port,
                      "connect_timeout": 1.0, "write_timeout": 5.0}
                     for pid, port in printers.items()],
    }
    return parse_config(raw)


def _extra(copies: int, expires_at: str | None) -> dict[str, object]:
    out: dict[str, object] = {"copies": copies} if copies != 1 else {}
    if expires_at is not None:
        out["expires_at"] = expires_at
    return out


def raw_job(job_id: str, printer: str, text: str = "", *, copies: int = 1,
            expires_at: str | None = None) -> dict[str, object]:
    """A raw job whose bytes carry `job_id` (so a test can count it at the printer) and a cut."""
    line = f"{text or '不锈钢合页 4寸 ×4'} #{job_id}#\n".encode("gb18030")
    data = ESC_INIT + b"\x1c&" + line + b"\x1c." + CUT
    return {"id": job_id, "printer": printer, "raw": base64.b64encode(data).decode(),
            **_extra(copies, expires_at)}


def marker(job_id: str) -> bytes:
    """What raw_job puts in the printer's bytes for `job_id`."""
    return f"#{job_id}#".encode()


def document_job(job_id: str, printer: str, *, copies: int = 1,
                 expires_at: str | None = None) -> dict[str, object]:
    """A small Chinese receipt as a document job; its bytes carry marker(job_id)."""
    return {"id": job_id, "printer": printer, "document": {"blocks": [
        {"type": "text", "text": "重庆江北建材旗舰店", "align": "center", "bold": True,
         "width": 2, "height": 2},
        {"type": "text", "text": f"单号 #{job_id}#"},
        {"type": "columns", "cells": [{"text": "不锈钢合页 4寸", "width": 24},
                                      {"text": "×4", "width": 8, "align": "right"},
                                      {"text": "34.00", "align": "right"}]},
        {"type": "rule"},
        {"type": "text", "text": "合计 ¥34.00  收银员: 李晓燕"},
        {"type": "text", "text": "谢谢惠顾，欢迎再次光临！", "align": "center"},
        {"type": "cut"}]}, **_extra(copies, expires_at)}


def receipt_job(job_id: str, printer: str, order_no: str = "XS-20261129-0042") -> dict[str, object]:
    """A till receipt (template `receipt`) with realistic Chinese data."""
    return {"id": job_id, "printer": printer, "template": "receipt", "data": {
        "store": {"name": "重庆江北建材旗舰店", "code": "CQ-JB-001",
                  "address": "重庆市江北区建新北路16号", "phone": "023-6788 1234"},
        "till": "T1", "order_no": order_no, "cashier": "李晓燕",
        "time": "2026-11-29T10:42:00+08:00",
        "lines": [{"name": "不锈钢合页 4寸 304 / 2.5mm", "sku": "JC-1001", "qty": 4,
                   "unit": "片", "unit_price": 850, "amount": 3400},
                  {"name": "十字沉头自攻螺丝 M4×30 (500只/盒)", "sku": "JC-1003", "qty": 2,
                   "unit": "盒", "unit_price": 1800}],
        "total": 7000, "payments": [{"method": "cash", "amount": 10000}], "change": 3000,
        "member": {"name": "王先生", "card": "VIP88001234", "points": 1260},
        "footer": ["谢谢惠顾，欢迎再次光临！"]}}


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool],
                     within: float = 20.0, what: str = "condition") -> None:
    """Poll `check` until it is true (no fixed sleeps standing in for conditions)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def agent_client(config: Config) -> AsyncIterator[tuple[AgentContext, Client]]:
    """The box's services for `config` behind a real aiohttp server on a free port."""
    from agent.api import make_app
    from agent.daemon import running

    # Like every client of the API (the status page, the tills), writes are sent as JSON.
    async with running(config) as ctx, TestClient(
            TestServer(make_app(ctx)), headers={"Content-Type": "application/json"}) as client:
        yield ctx, client
