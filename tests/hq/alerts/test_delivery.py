"""Webhook shapes and delivery: WeCom/DingTalk robot JSON in Chinese, the DingTalk 加签
signature, and delivery from the durable outbox against a real aiohttp server on loopback that
fails the first attempts (HTTP 500, then errcode ≠ 0), with backoff, delivered once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web

from hq.alert_config import AlertConfig, Webhook
from hq.alerts.book import raise_alert
from hq.alerts.messages import (
    backoff_ms,
    dingtalk_sign,
    event_payload,
    robot_failure,
    text,
    webhook_body,
    webhook_url,
)
from hq.alerts.watch import AlertWatch, alerts_topic
from hq.fleet.registry import Registry
from hq.ingest.journal import wall_ms
from hq.store.alerts import AlertRow
from hq.store.sqlite import SqliteStore
from tests.agent.conftest import eventually

SECRET = "SEC0123456789abcdef0123456789abcdef"
ALERT = AlertRow(7, "printer_paper_out", "B1/front", "B1", "重庆江北店", 1_796_000_000_000, None,
                 {"printer": "front", "state": "paper_out", "text": "缺纸"})


def test_the_dingtalk_signature_matches_a_known_vector() -> None:
    # HMAC-SHA256(key=secret, msg="1700000000000\nSECtest"), base64 — computed independently.
    want = base64.b64encode(hmac.new(b"SECtest", b"1700000000000\nSECtest",
                                     hashlib.sha256).digest()).decode()
    assert dingtalk_sign("SECtest", 1_700_000_000_000) == want
    hook = Webhook("d", "https://oapi.dingtalk.com/robot/send?access_token=abc", "dingtalk",
                   "SECtest")
    q = parse_qs(urlsplit(webhook_url(hook, 1_700_000_000_000)).query)
    assert q == {"access_token": ["abc"], "timestamp": ["1700000000000"], "sign": [want]}
    plain = Webhook("w", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "wecom")
    assert webhook_url(plain, 1) == plain.url


def test_robots_get_chinese_text_and_json_hooks_the_mqtt_payload() -> None:
    robot = json.loads(webhook_body(Webhook("w", "https://x", "wecom"), "hq-1", "raised", ALERT))
    assert robot["msgtype"] == "text" and set(robot) == {"msgtype", "text"}
    content = robot["text"]["content"]
    assert content.startswith("【告警】打印机缺纸") and "门店：重庆江北店　盒子：B1" in content
    named = text("raised", AlertRow(**{**ALERT.__dict__, "store": "CQ-JB-001"}), "重庆江北店")
    assert "门店：重庆江北店（CQ-JB-001）　盒子：B1" in named
    assert "打印机 front" in content and "北京时间" in content
    cleared = AlertRow(**{**ALERT.__dict__, "cleared_ms": ALERT.raised_ms + 65_000})
    assert text("cleared", cleared).startswith("【恢复】打印机缺纸")
    assert "持续：65 秒" in text("cleared", cleared)
    j = json.loads(webhook_body(Webhook("j", "https://x", "json"), "hq-1", "cleared", cleared))
    assert j == json.loads(event_payload("hq-1", "cleared", cleared))
    assert (j["v"], j["hq"], j["event"], j["at_ms"]) == (1, "hq-1", "cleared",
                                                        cleared.cleared_ms)
    assert j["alert"]["name"] == "打印机缺纸" and j["alert"]["open"] is False
    assert alerts_topic("hq-1") == "storelink/v1/hq/hq-1/alerts"


def test_an_errcode_other_than_zero_is_a_failure() -> None:
    robot = Webhook("w", "https://x", "wecom")
    assert robot_failure(robot, 200, b'{"errcode":0,"errmsg":"ok"}') is None
    assert robot_failure(robot, 200, b'{"errcode":93000,"errmsg":"invalid webhook url"}') == \
        "errcode 93000: invalid webhook url"
    assert robot_failure(robot, 200, b"<html>") == "the robot's answer is not JSON"
    assert robot_failure(robot, 502, b"") == "HTTP 502"
    assert robot_failure(Webhook("j", "https://x", "json"), 204, b"") is None


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [backoff_ms(n, 5, 60) for n in (1, 2, 3, 4, 5, 99)] == [
        5000, 10_000, 20_000, 40_000, 60_000, 60_000]


class Robot:
    """A DingTalk-like robot on loopback: it checks the signature and the shape, and fails the
    first `fail` attempts (an HTTP 500, then errcode 310000)."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.calls: list[dict[str, Any]] = []
        self.bad: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        ts, sign = request.query.get("timestamp", ""), request.query.get("sign", "")
        if dingtalk_sign(SECRET, int(ts or 0)) != sign:
            self.bad.append(f"signature {ts} {sign}")
        if body.get("msgtype") != "text" or "【" not in body["text"]["content"]:
            self.bad.append(f"shape {body}")
        self.calls.append(body)
        n = len(self.calls)
        if n <= self.fail:
            if n == 1:
                return web.Response(status=500, text="busy")
            return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})


@pytest.fixture
async def robot() -> AsyncIterator[tuple[Robot, int]]:
    r = Robot(fail=2)
    app = web.Application()
    app.router.add_post("/robot/send", r.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield r, port
    await runner.cleanup()


async def test_a_webhook_is_retried_with_backoff_and_delivered_once_by_one_of_two_workers(
        tmp_path: Path, robot: tuple[Robot, int]) -> None:
    r, port = robot
    hook = Webhook("ding", f"http://127.0.0.1:{port}/robot/send?access_token=t", "dingtalk",
                   SECRET, 5.0)
    cfg = AlertConfig(webhooks=(hook,), backoff_s=0.1, backoff_max_s=0.2, max_attempts=10)
    published: list[tuple[str, bytes]] = []

    async def publish(topic: str, payload: bytes) -> bool:
        published.append((topic, payload))
        return True

    stores = [SqliteStore(tmp_path / "hq.db"), SqliteStore(tmp_path / "hq.db")]
    clock = wall_ms
    watches = [AlertWatch(s, cfg, "hq-1", Registry(s, clock), None, tuple, {}, publish, clock)
               for s in stores]
    try:
        i = raise_alert(stores[0], cfg, "printer_paper_out", "B1/front", clock(), box="B1",
                        store_id="重庆江北店", detail=dict(ALERT.detail))
        assert i is not None
        async with aiohttp.ClientSession() as http:
            async def both() -> bool:
                await asyncio.gather(*(w.deliver(http) for w in watches))
                rows = stores[1].outbox_of(i)
                return all(o.delivered_ms is not None for o in rows)

            await eventually(both, within=60, what="the webhook delivery")
        assert r.bad == []
        assert len(r.calls) == 3  # two failures, then one delivery, never twice
        assert r.calls[-1]["text"]["content"].startswith("【告警】打印机缺纸")
        hook_row = next(o for o in stores[0].outbox_of(i) if o.target == "webhook:ding")
        assert hook_row.attempts == 3 and hook_row.last_error == "errcode 310000: sign not match"
        assert [t for t, _ in published] == ["storelink/v1/hq/hq-1/alerts"]
        assert json.loads(published[0][1])["alert"]["id"] == i
    finally:
        for s in stores:
            s.close()


async def test_a_delivery_gives_up_after_max_attempts(tmp_path: Path,
                                                     robot: tuple[Robot, int]) -> None:
    r, port = robot
    r.fail = 1000
    hook = Webhook("ding", f"http://127.0.0.1:{port}/robot/send", "dingtalk", SECRET, 5.0)
    cfg = AlertConfig(webhooks=(hook,), backoff_s=0.1, backoff_max_s=0.1, max_attempts=3)
    s = SqliteStore(tmp_path / "hq.db")
    clock = wall_ms

    async def publish(topic: str, payload: bytes) -> bool:
        return True

    w = AlertWatch(s, cfg, "hq-1", Registry(s, clock), None, tuple, {}, publish, clock)
    try:
        i = raise_alert(s, cfg, "box_offline", "B1", clock(), box="B1")
        assert i is not None
        async with aiohttp.ClientSession() as http:
            async def given_up() -> bool:
                await w.deliver(http)
                row = next(o for o in s.outbox_of(i) if o.target == "webhook:ding")
                return row.failed_ms is not None

            await eventually(given_up, within=60, what="giving up")
        assert len(r.calls) == 3
    finally:
        s.close()
