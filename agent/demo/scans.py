"""The scanning part of `storelink demo`: a simulated serial scanner feeding the running daemon.

The demo starts a `SerialScannerSim` (a pty), adds `scanner_toml(sim.port)` to the daemon's
configuration, and once the daemon is up calls `run_scan_demo`, which scans a few catalogue
codes and shows each one arriving on /v1/events; the status page lists them under 扫码枪.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence

import aiohttp

from drivers.sim.scanner import SerialScannerSim

SCANNER_ID = "till"
DEMO_CODES: tuple[tuple[str, str], ...] = (
    ("]E06901234500011", "不锈钢合页 4寸"),
    ("]E06901234500035", "十字沉头自攻螺丝 M4×30"),
    ("]C1010690123450001117261130" + "10LOT-2026A", "GS1-128 箱标: GTIN + 有效期 + 批号"),
    ("]Q1XS-20261129-0042 重庆江北建材旗舰店 李晓燕", "销售单二维码 (中文, UTF-8)"),
)


def scanner_toml(device: str) -> str:
    """The [[scanners]] block for the simulated serial scanner on `device`."""
    return (f'\n[[scanners]]\nid = "{SCANNER_ID}"\nname = "收银台扫码枪 (模拟串口)"\n'
            f'kind = "serial"\ndevice = "{device}"\nbaudrate = 115200\nterminator = "CR"\n')


def _get(base_url: str, path: str) -> object:
    with urllib.request.urlopen(base_url.rstrip("/") + path, timeout=10) as resp:
        return json.loads(resp.read())


def _scanner_connected(base_url: str) -> bool:
    body = _get(base_url, "/v1/scanners")
    scanners = body.get("scanners", []) if isinstance(body, dict) else []
    return any(s.get("id") == SCANNER_ID and s.get("connected") for s in scanners)


class _EventReader(threading.Thread):
    """Reads /v1/events in its own event loop until `count` scan events arrived."""

    def __init__(self, base_url: str, count: int, timeout: float) -> None:
        super().__init__(name="scan-demo-events", daemon=True)
        self.url = base_url.rstrip("/") + "/v1/events"
        self.count = count
        self.timeout = timeout
        self.ready = threading.Event()
        self.scans: list[dict[str, object]] = []
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._read())
        except Exception as e:  # reported by run_scan_demo
            self.error = e
        finally:
            self.ready.set()

    async def _read(self) -> None:
        async with aiohttp.ClientSession() as http, http.ws_connect(self.url) as ws:
            await ws.receive_json(timeout=self.timeout)  # hello: subscribed from here on
            self.ready.set()
            while len(self.scans) < self.count:
                event = await ws.receive_json(timeout=self.timeout)
                if event.get("type") == "scan":
                    self.scans.append(event)


def run_scan_demo(base_url: str, sim: SerialScannerSim, say: Callable[[str], None],
                  codes: Sequence[tuple[str, str]] = DEMO_CODES,
                  timeout: float = 30.0) -> list[dict[str, object]]:
    """Scan `codes` on `sim` and print each scan event as /v1/events delivers it."""
    deadline = time.monotonic() + timeout
    while not _scanner_connected(base_url):  # opening the port discards earlier input
        if time.monotonic() > deadline:
            raise TimeoutError("the daemon did not open the simulated scanner")
        time.sleep(0.1)
    reader = _EventReader(base_url, len(codes), timeout)
    reader.start()
    reader.ready.wait(timeout)
    if reader.error is not None:
        raise reader.error
    say(f"\n— 扫码: {len(codes)} codes on the simulated serial scanner {sim.port}")
    for code, what in codes:
        sim.scan(code)
        say(f"  scanned {what}")
    reader.join(timeout)
    if reader.error is not None:
        raise reader.error
    for e in reader.scans:
        say(f"  /v1/events ← scan {e.get('symbology') or '?'}: {e.get('code')}")
    return reader.scans
