"""The uplink sends what the box commits to its event outbox when the doorbell rings, not on the
next tick: with the backstop tick set to an hour, a cloud job's intake answer still reaches the
broker (real mosquitto, the box's real services and uplink in this process)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.daemon import running
from agent.uplink.config import SyncConfig
from agent.uplink.link import Uplink
from sync.mqtt_session import Message, MqttSession, SessionConfig
from sync.protocol.messages import EventsBatch, IntakeEvent, PrintDispatch
from sync.protocol.topics import Down, Up, down, up
from tests.agent.conftest import box_config
from tests.e2e.broker import Broker, broker, free_port

BOX = "CQ-JB-001-B1"
HOUR = 3600.0
__all__ = ["broker"]


async def _next_events(session: MqttSession, wait_s: float) -> EventsBatch:
    while True:
        ev = await asyncio.wait_for(session.events.get(), wait_s)
        if isinstance(ev, Message) and ev.topic == up(BOX, Up.EVENTS):
            return EventsBatch.from_json(ev.payload)


async def test_an_intake_answer_goes_out_without_waiting_for_a_tick(broker: Broker,
                                                                     tmp_path: Path) -> None:
    cfg = box_config(tmp_path / "box", {}, api_port=free_port())
    sync_cfg = SyncConfig("127.0.0.1", Ed25519PrivateKey.generate().public_key(), broker.port,
                          keepalive_s=5, telemetry_interval_s=3600)
    hq = MqttSession(SessionConfig("127.0.0.1", broker.port, "test-hq", clean_start=True,
                                   subscriptions=((up(BOX, Up.EVENTS), 1),)))
    await hq.start()
    assert await hq.wait_connected(30)
    async with running(cfg) as ctx:
        uplink = Uplink(ctx, sync_cfg, None, tick_s=HOUR)
        task = asyncio.create_task(uplink.run())
        try:
            assert await uplink.session.wait_connected(30)
            # 无此打印机: refused by the box's intake, whose answer goes to the outbox.
            job = {"id": "CLOUD-0001", "printer": "后台标签机",
                   "document": {"blocks": [{"type": "text", "text": "拣货单 重庆江北仓"}]}}
            dispatch = PrintDispatch(BOX, job, 0).to_json()
            assert await hq.publish(down(BOX, Down.PRINT), dispatch, 1, wait_s=30)
            batch = await _next_events(hq, 60)
            intake = [e for e in batch.events if isinstance(e, IntakeEvent)]
            assert [(e.id, e.result) for e in intake] == [("CLOUD-0001", "refused")]
            assert "后台标签机" in intake[0].error
        finally:
            await uplink.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await hq.stop()
