"""Scales in the real daemon app: simulated scales on ptys, GET /v1/scales/{id}/weight, events."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

import pytest

from agent.config import Config, ConfigError, parse_config
from agent.devices.discovery import DeviceEnv, scan_devices
from drivers.sim.scale import ScaleSim
from drivers.sim.usb_backend import SimUsbBackend
from tests.agent.conftest import eventually
from tests.agent.devices.conftest import QUIET_DISCOVERY, daemon_client, next_event

PROTOCOLS = ["toledo-8217", "ad-continuous", "yousheng-jcs"]


def scale_config(state_dir: Path, scales: list[dict[str, object]],
                 protocols: dict[str, object] | None = None) -> Config:
    """A box for 重庆江北建材旗舰店 with the given scales and nothing else."""
    return parse_config({
        "box": {"id": "CQ-JB-001-B1", "store": "重庆江北建材旗舰店", "state_dir": str(state_dir)},
        "queue": {"backoff_max_s": 1.0},
        "discovery": QUIET_DISCOVERY, "scales": scales,
        "scale_protocols": protocols or {}})


def one_scale(tmp_path: Path, sim: ScaleSim) -> Config:
    return scale_config(tmp_path, [{"id": "bench", "name": "五金称重台", "device": sim.port,
                                    "protocol": sim.protocol.name, "offline_after_ms": 1500,
                                    "poll_interval_ms": 50}])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_stable_motion_overload_negative_and_garbage(tmp_path: Path, protocol: str) -> None:
    with ScaleSim(protocol, grams=1234, interval_s=0.03) as sim:
        async with daemon_client(one_scale(tmp_path, sim)) as (ctx, client), \
                client.ws_connect("/v1/events") as ws:
            r = await client.get("/v1/scales/bench/weight?stable=true&timeout_ms=5000")
            assert r.status == 200, await r.text()
            body = await r.json()
            assert (body["grams"], body["stable"]) == (1234, True)
            sim.set(grams=1240)  # a change is published (the first may precede the socket)
            event = await next_event(ws, "weight")
            while event["grams"] != 1240:
                event = await next_event(ws, "weight")
            assert event["scale"] == "bench" and event["status"] == "stable"

            for status, grams, text in [("motion", 1300, "在晃动"), ("overload", 1300, "超载"),
                                        ("under_zero", -50, "负数")]:
                sim.set(grams=grams, status=status)
                await eventually(lambda s=status: ctx.devices is not None and (
                    (rd := ctx.devices.scales["bench"].snapshot().reading) is not None
                    and rd.status == s), what=f"a {status} reading")
                r = await client.get("/v1/scales/bench/weight?timeout_ms=300")
                assert r.status == 409, await r.text()
                err = (await r.json())["error"]
                assert (err["status"], err["reason"], err["field"]) == (status, text, "scale")

            # Noise between frames is skipped; the next stable weight still comes through.
            sim.set(grams=2500, status="stable")
            for _ in range(5):
                sim.write(b"\x00\x13#\xfe\x80noise " + "噪声".encode("gb18030") + b"\r\n")
                await asyncio.sleep(0.05)
            r = await client.get("/v1/scales/bench/weight?timeout_ms=5000")
            assert (r.status, (await r.json())["grams"]) == (200, 2500)
            snap = (await (await client.get("/v1/scales")).json())["scales"][0]
            assert snap["state"] == "online" and snap["skipped"] > 0
            page = await (await client.get("/")).text()
            assert "电子秤" in page and "/v1/scales" in page and "在晃动" in page


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_disconnect_mid_read_answers_504_and_shows_offline(tmp_path: Path,
                                                                 protocol: str) -> None:
    sim = ScaleSim(protocol, grams=800, status="motion", interval_s=0.03)
    async with daemon_client(one_scale(tmp_path, sim)) as (ctx, client), \
            client.ws_connect("/v1/events") as ws:
        assert ctx.devices is not None
        bench = ctx.devices.scales["bench"]
        # (the "online" event may precede the socket's subscription: read the state instead)
        await eventually(lambda: bench.snapshot().online, what="scale online")
        pending = asyncio.create_task(client.get("/v1/scales/bench/weight?timeout_ms=2500"))
        await asyncio.sleep(0.3)
        sim.write(sim.frame()[:3])  # half a frame, then the cable is pulled
        sim.close()
        r = await pending
        assert r.status == 504, await r.text()
        err = (await r.json())["error"]
        assert err["status"] == "offline" and err["reason"].startswith("秤无响应")
        down = await next_event(ws, "scale")
        while down["online"]:  # the "online" event, when it followed the subscription
            down = await next_event(ws, "scale")
        assert down["state"] == "offline" and down["last_error"]
        listing = await (await client.get("/v1/scales")).json()
        assert listing["scales"][0]["state"] == "offline"
        r = await client.get("/v1/scales/bench/weight?timeout_ms=0")
        assert r.status == 504


async def test_a_silent_scale_is_offline(tmp_path: Path) -> None:
    # A polled scale that never answers (the port is there, nothing replies): offline.
    with ScaleSim("ad-continuous", interval_s=3600) as silent:
        cfg = scale_config(tmp_path, [{"id": "mute", "device": silent.port,
                                       "protocol": "toledo-8217", "offline_after_ms": 300}])
        async with daemon_client(cfg) as (ctx, client):
            assert ctx.devices is not None
            await eventually(lambda: ctx.devices is not None and "no valid frame" in (
                ctx.devices.scales["mute"].snapshot().last_error or ""), what="offline")
            r = await client.get("/v1/scales/mute/weight?timeout_ms=100")
            assert r.status == 504


async def test_tare_and_zero_where_the_protocol_has_them(tmp_path: Path) -> None:
    with ScaleSim("ad-continuous", grams=400, interval_s=0.03) as ad, \
            ScaleSim("yousheng-jcs", grams=400, interval_s=0.03) as jcs:
        cfg = scale_config(tmp_path, [
            {"id": "ad", "device": ad.port, "protocol": "ad-continuous"},
            {"id": "jcs", "device": jcs.port, "protocol": "yousheng-jcs"}])
        async with daemon_client(cfg) as (_ctx, client):
            r = await client.get("/v1/scales/ad/weight?timeout_ms=5000")
            assert (await r.json())["grams"] == 400
            r = await client.post("/v1/scales/ad/tare")
            assert r.status == 202

            async def net(grams: int) -> bool:
                r = await client.get("/v1/scales/ad/weight?timeout_ms=200")
                body: dict[str, Any] = await r.json()
                return r.status == 200 and body["grams"] == grams and body["net"] is True

            await eventually(lambda: net(0), what="the tare taken")
            ad.set(grams=1650)
            await eventually(lambda: net(1250), what="the net weight after tare")
            await client.get("/v1/scales/jcs/weight?timeout_ms=5000")
            r = await client.post("/v1/scales/jcs/zero")
            assert r.status == 409
            assert "no zero command" in (await r.json())["error"]["reason"]


async def test_bad_requests_and_unknown_scales(tmp_path: Path) -> None:
    with ScaleSim("ad-continuous", grams=100) as sim:
        async with daemon_client(one_scale(tmp_path, sim)) as (_, client):
            r = await client.get("/v1/scales/bench/weight?timeout_ms=abc")
            assert r.status == 400 and (await r.json())["error"]["field"] == "timeout_ms"
            r = await client.get("/v1/scales/bench/weight?stable=maybe")
            assert r.status == 400 and (await r.json())["error"]["field"] == "stable"
            assert (await client.get("/v1/scales/秤/weight")).status == 404


def test_config_names_the_bad_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        scale_config(tmp_path, [{"id": "a", "device": "/dev/serial/by-id/usb-x", "protocol": "x"},
                                {"id": "a", "protocol": "ad-continuous"}],
                     {"mine": {"base": "ad-continuous", "baudrate": 7}})
    errors = "\n".join(exc.value.errors)
    assert "scales[0].protocol: unknown protocol 'x'" in errors
    assert "scales[1].id: duplicate" in errors
    assert "scales[1].device: is required" in errors
    assert "scale_protocols.mine.baudrate" in errors


def test_a_user_protocol_is_usable_by_name(tmp_path: Path) -> None:
    cfg = scale_config(tmp_path, [{"id": "s", "device": "/dev/serial/by-id/usb-FTDI-if00-port0",
                                   "protocol": "shop"}],
                       {"shop": {"base": "ad-continuous", "baudrate": 2400}})
    assert cfg.scales[0].baudrate == 2400
    assert cfg.scales[0].protocol.name == "shop"


def test_devices_suggests_a_scale_snippet_that_then_matches(tmp_path: Path) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    with ScaleSim("ad-continuous") as sim:
        link = by_id / "usb-Prolific_PL2303_秤-if00-port0"
        link.symlink_to(sim.port)
        env = DeviceEnv(usb_backend=SimUsbBackend([]), serial_dir=by_id, sysfs=tmp_path / "sys")
        box: dict[str, Any] = {"box": {"id": "CQ-JB-001-B1", "state_dir": str(tmp_path)},
                               "discovery": {"zeroconf": False}}
        report = scan_devices(parse_config(box), env, [], 1)
        [suggestion] = report.suggestions
        lines = suggestion.toml.splitlines()
        choice = lines[lines.index("# or a scale (秤; its protocol is not guessed either):") + 1:]
        pasted = tomllib.loads("\n".join(line[2:] for line in choice))
        assert pasted["scales"][0]["device"] == str(link)
        assert pasted["scales"][0]["protocol"] == "ad-continuous"
        again = scan_devices(parse_config({**box, **pasted}), env, [], 2)
        assert [(c.ref, c.state) for c in again.configured] == [("scales.scale-1", "matched")]
        assert again.suggestions == ()
