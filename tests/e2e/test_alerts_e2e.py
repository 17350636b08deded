"""Alerts against real processes: `storelink hq run`, mosquitto, a box and its simulated
printer. A box that goes offline raises one alert, published once on the MQTT alerts topic and
POSTed once to a WeCom-style robot (after the robot failed twice); its return clears it once;
a printer out of paper raises and clears printer_paper_out, one that stops answering raises
printer_offline; an acknowledgement records who."""

from __future__ import annotations

import asyncio
import json
import queue
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from aiohttp import web
from paho.mqtt.enums import CallbackAPIVersion

from tests.e2e.world import World, wait_for
from tests.hq.journals import BOX

pytestmark = pytest.mark.timeout(300)
T = 30.0


class Robot:
    """A WeCom-like robot on loopback in its own thread: fails the first two POSTs (HTTP 503,
    then errcode 45009), then answers errcode 0; keeps every body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.ok: list[str] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        threading.Thread(target=self._serve, daemon=True).start()
        assert self._ready.wait(T)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/cgi-bin/webhook/send", self._post)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        if len(self.bodies) == 1:
            return web.Response(status=503)
        if len(self.bodies) == 2:
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        self.ok.append(body["text"]["content"])
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def close(self) -> None:
        async def stop() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(T)
        self._loop.call_soon_threadsafe(self._loop.stop)


class Listener:
    """An MQTT 5 client subscribed to HQ's alerts topic."""

    def __init__(self, port: int) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="alerts-listener",
                             protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe("storelink/v1/hq/+/alerts", 1)
        self.c.on_subscribe = lambda *a: subscribed.set()
        self.c.on_message = lambda c, u, m: self.messages.put(json.loads(m.payload))
        self.c.connect("127.0.0.1", port, keepalive=30)
        self.c.loop_start()
        assert subscribed.wait(T)

    def take(self) -> dict[str, Any]:
        return self.messages.get(timeout=90)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def alert_world(tmp_path: Path) -> Iterator[tuple[World, Robot, Listener]]:
    robot = Robot()
    with World(tmp_path) as w:
        w.hq.stop()
        cfg = w.root / "hq" / "hq.toml"
        cfg.write_text(cfg.read_text(encoding="utf-8") + f"""
[[stores]]
id = "CQ-JB-001"
name = "重庆江北建材旗舰店"
boxes = ["{BOX}"]

[alerts]
interval_s = 0.5
offline_after_s = 1
backoff_s = 0.3
backoff_max_s = 1.0
kinds = ["box_offline", "printer_offline", "printer_paper_out", "printer_cover_open"]

[[alerts.webhooks]]
name = "ops-group"
kind = "wecom"
url = "http://127.0.0.1:{robot.port}/cgi-bin/webhook/send?key=e2e"
""", encoding="utf-8")
        w.hq.start()
        listener = Listener(w.broker.port)
        try:
            yield w, robot, listener
        finally:
            listener.close()
            robot.close()


def alerts(w: World, state: str = "recent") -> list[dict[str, Any]]:
    status, body = w.api("GET", f"/v1/alerts?state={state}")
    assert status == 200, body
    return list(body["alerts"])


def presence(w: World) -> str:
    _, body = w.api("GET", "/v1/boxes")
    return next((str(b["presence"]) for b in body["boxes"] if b["id"] == BOX), "")


def test_offline_box_raises_once_clears_once_and_is_acknowledged(
        alert_world: tuple[World, Robot, Listener]) -> None:
    w, robot, listener = alert_world
    w.start_box()
    wait_for(lambda: presence(w) == "online", what="box online")
    assert w.box is not None
    w.box.stop()  # a clean stop: the box says it is going (death, shutdown)
    raised = listener.take()
    assert (raised["event"], raised["hq"]) == ("raised", "hq-1")
    a = raised["alert"]
    assert (a["kind"], a["name"], a["subject"], a["store"], a["open"]) == (
        "box_offline", "盒子离线", BOX, "CQ-JB-001", True)
    wait_for(lambda: len(robot.ok) == 1, wait_s=90, what="the robot POST after two failures")
    assert len(robot.bodies) == 3 and robot.bodies[0] == robot.bodies[2]
    assert robot.ok[0].startswith("【告警】盒子离线")
    assert "门店：重庆江北建材旗舰店（CQ-JB-001）" in robot.ok[0]
    [shown] = alerts(w, "open")
    assert shown["id"] == a["id"] and shown["can_ack"] is True

    status, body = w.api("POST", f"/v1/alerts/{a['id']}/ack", {})
    assert status == 200, body
    assert body["alert"]["acked_by"] == "local:loopback" and body["alert"]["acked_ms"]
    status, body = w.api("POST", f"/v1/alerts/{a['id']}/ack", {})
    assert status == 409 and body["error"]["field"] == "id"
    status, audit = w.api("GET", "/v1/audit?limit=50")
    assert any(e["action"] == "alert_ack" and e["target"] == f"alert:{a['id']}"
               for e in audit["audit"]), audit

    w.start_box()
    cleared = listener.take()
    assert (cleared["event"], cleared["alert"]["id"], cleared["alert"]["open"]) == (
        "cleared", a["id"], False)
    wait_for(lambda: len(robot.ok) == 2, wait_s=90, what="the clear POSTed")
    assert robot.ok[1].startswith("【恢复】盒子离线")
    assert alerts(w, "open") == []
    [done] = alerts(w)
    assert (done["id"], done["acked_by"], done["open"]) == (a["id"], "local:loopback", False)

    # The simulated printer runs out of paper, then gets paper: one raise, one clear.
    assert w.printer.proc is not None
    w.printer.proc.send_signal(signal.SIGUSR1)
    paper = listener.take()
    assert (paper["event"], paper["alert"]["kind"], paper["alert"]["subject"]) == (
        "raised", "printer_paper_out", f"{BOX}/front")
    w.printer.proc.send_signal(signal.SIGUSR2)
    back = listener.take()
    assert (back["event"], back["alert"]["id"]) == ("cleared", paper["alert"]["id"])

    # The simulated printer stops answering: the box reports it offline, HQ raises one alert.
    w.printer.stop()
    printer = listener.take()
    assert (printer["event"], printer["alert"]["kind"], printer["alert"]["subject"]) == (
        "raised", "printer_offline", f"{BOX}/front")
    with pytest.raises(queue.Empty):
        listener.messages.get(timeout=3)  # nothing raised twice
