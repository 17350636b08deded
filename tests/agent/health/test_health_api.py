"""GET /v1/health: degraded with reasons (printer, HQ link, journal, disk), 503 when
configured, and the HQ link's log lines once per change against a real broker."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from pathlib import Path

import pytest

from agent.config import Config
from agent.health.config import HealthConfig
from agent.uplink.config import parse_sync_table
from tests.agent.conftest import SimFactory, agent_client, box_config, eventually, free_port
from tests.e2e.broker import Broker

PUB = "gG6E18ci925Y6HB+kTUxYPu6J2RsUc5rm06ww6seqCY="


def with_sync(cfg: Config, port: int) -> Config:
    errors: list[str] = []
    sync = parse_sync_table({"host": "127.0.0.1", "port": port, "hq_pubkey": PUB,
                             "keepalive_s": 5}, errors)
    assert not errors
    return dataclasses.replace(cfg, sync=sync)


async def test_all_well_is_ok(tmp_path: Path, sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (ctx, client):
        await eventually(lambda: ctx.printers["front"].snapshot().ready, what="ready")
        r = await client.get("/v1/health")
        body = await r.json()
        assert (r.status, body["status"], body["reasons"]) == (200, "ok", [])
        assert body["journal"]["ok"] and body["uplink"] is None
        printers = await (await client.get("/v1/printers")).json()
        assert printers["printers"][0]["problem"] is None


@pytest.mark.parametrize("status", [200, 503])
async def test_a_dead_printer_degrades_with_the_fix_in_chinese(tmp_path: Path,
                                                               status: int) -> None:
    dead = free_port()
    cfg = box_config(tmp_path, {"front": dead})
    cfg = dataclasses.replace(cfg, health=HealthConfig(degraded_status=status))
    async with agent_client(cfg) as (ctx, client):
        await eventually(lambda: ctx.printers["front"].snapshot().checked_ms is not None,
                         what="first attempt")
        r = await client.get("/v1/health")
        body = await r.json()
        assert r.status == status and body["status"] == "degraded"
        [reason] = body["reasons"]
        assert reason["code"] == "printer" and reason["subject"] == "front"
        assert reason["text"] == f"front：打印机无响应：检查网线和 IP 127.0.0.1:{dead}"
        assert "refused" in reason["detail"]  # the raw text, for the technician only
        p = (await (await client.get("/v1/printers/front")).json())
        assert p["problem"]["text"] == f"打印机无响应：检查网线和 IP 127.0.0.1:{dead}"


async def test_low_disk_degrades(tmp_path: Path, sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port})
    cfg = dataclasses.replace(cfg, health=HealthConfig(disk_min_free_mb=1_000_000))
    async with agent_client(cfg) as (ctx, client):
        await eventually(lambda: ctx.printers["front"].snapshot().ready, what="ready")
        body = await (await client.get("/v1/health")).json()
        assert [r["code"] for r in body["reasons"]] == ["disk"]
        assert body["reasons"][0]["text"].startswith("存储空间不足：只剩 ")


async def test_a_journal_that_cannot_write_degrades_until_it_writes_again(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (ctx, client):
        assert ctx.journal is not None
        # Another process holds the database's write lock past the writer's busy timeout.
        other = sqlite3.connect(tmp_path / "journal.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(Exception, match="journal write failed"):
            await ctx.journal.checkpoint()
        body = await (await client.get("/v1/health")).json()
        [reason] = [r for r in body["reasons"] if r["code"] == "journal"]
        assert reason["text"].startswith("销售日志写入失败") and "locked" in reason["detail"]
        assert body["journal"]["ok"] is False
        other.execute("ROLLBACK")
        other.close()
        await ctx.journal.checkpoint()
        body = await (await client.get("/v1/health")).json()
        assert not [r for r in body["reasons"] if r["code"] == "journal"]


async def test_hq_link_down_from_the_start_is_said_once_and_its_recovery_once(
        tmp_path: Path, sim_printer: SimFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agent.uplink.link")
    _, shell = sim_printer()
    broker = Broker(tmp_path / "broker")
    cfg = with_sync(box_config(tmp_path / "box", {"front": shell.port}), broker.port)
    try:
        async with agent_client(cfg) as (ctx, client):
            assert ctx.link is not None
            await eventually(lambda: ctx.link is not None and ctx.link.snapshot().failures >= 3,
                             what="several failed attempts")
            body = await (await client.get("/v1/health")).json()
            assert body["status"] == "degraded"
            [reason] = [r for r in body["reasons"] if r["code"] == "hq_link"]
            assert reason["text"] == ("与 HQ 的连接断开：HQ 服务器拒绝连接：MQTT 服务未运行或"
                                      "端口不对")
            assert "Connection refused" in reason["detail"]
            assert body["uplink"]["state"] == "down" and body["uplink"]["label"] == "断开"
            broker.start()
            await eventually(lambda: ctx.link is not None
                             and ctx.link.snapshot().state.value == "connected",
                             what="link up", within=60)
            body = await (await client.get("/v1/health")).json()
            assert body["uplink"]["label"] == "已连接"
            assert not [r for r in body["reasons"] if r["code"] == "hq_link"]
    finally:
        broker.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "agent.uplink.link"
             and r.getMessage().startswith("HQ 链路")]
    assert len(lines) == 2, lines
    assert lines[0].startswith("HQ 链路无法建立 / HQ link down: cannot reach broker")
    assert lines[1].startswith("HQ 链路已恢复 / HQ link up again")
