"""Helpers for the device tests: configs with scanners and displays, a daemon, its events."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from agent.api import make_app
from agent.api.context import AgentContext
from agent.config import Config, parse_config
from agent.daemon import running
from agent.devices.discovery import DeviceEnv
from tests.agent.conftest import Client

QUIET_DISCOVERY = {"usb": False, "serial": False, "zeroconf": False, "uevents": False}


def devices_config(state_dir: Path, *, scanners: Sequence[Mapping[str, object]] = (),
                   displays: Sequence[Mapping[str, object]] = (),
                   printers: Sequence[Mapping[str, object]] = (),
                   discovery: Mapping[str, object] | None = None,
                   poll_s: float = 0.2, box_id: str = "CQ-JB-001-B1",
                   api_port: int = 8470) -> Config:
    """A box config for 重庆江北建材旗舰店 with the given devices; discovery off unless given."""
    raw: dict[str, object] = {
        "api": {"port": api_port},
        "box": {"id": box_id, "store": "重庆江北建材旗舰店", "name": "江北店前台",
                "state_dir": str(state_dir)},
        "queue": {"poll_interval_s": poll_s, "backoff_max_s": 1.0},
        "scanners": [dict(s) for s in scanners],
        "displays": [dict(d) for d in displays],
        "printers": [dict(p) for p in printers],
        "discovery": dict(QUIET_DISCOVERY if discovery is None else discovery),
    }
    return parse_config(raw)


@contextlib.asynccontextmanager
async def daemon_client(config: Config, env: DeviceEnv | None = None
                        ) -> AsyncIterator[tuple[AgentContext, Client]]:
    """The box's services (with `env` for devices) behind a real aiohttp server."""
    async with running(config, env=env) as ctx, TestClient(
            TestServer(make_app(ctx)), headers={"Content-Type": "application/json"}) as client:
        yield ctx, client


async def next_event(ws: aiohttp.ClientWebSocketResponse, kind: str,
                     within: float = 20.0) -> dict[str, Any]:
    """The next event of type `kind` on the /v1/events WebSocket (others are skipped)."""
    while True:
        event = await ws.receive_json(timeout=within)
        if event.get("type") == kind:
            assert isinstance(event, dict)
            return event
