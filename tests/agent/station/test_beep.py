"""A refusal at a station sounds the beeper of its ESC/POS printer (`ESC B 2 3`), byte for byte on
the simulated printer; a handover does not; a printer without a buzzer cannot be the beeper."""

from __future__ import annotations

from pathlib import Path

from agent.config import Config, ConfigError
from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import Beep
from drivers.label.flowcard import encode_flow_card
from drivers.profiles import get_profile
from drivers.sim.scanner import SerialScannerSim
from tests.agent.conftest import SimFactory, eventually
from tests.agent.devices.conftest import QUIET_DISCOVERY, daemon_client, next_event
from tests.agent.sales.conftest import post
from tests.agent.station.conftest import station_config
from tests.agent.station.test_station import TASK, card

BEEP = b"\x1bB\x02\x03"


def config(tmp_path: Path, sim: SerialScannerSim, port: int, profile: str = "generic-cn-80"
           ) -> Config:
    return station_config(
        tmp_path, None, discovery=dict(QUIET_DISCOVERY),
        printers=[{"id": "front", "name": "工位小票机", "profile": profile, "transport": "tcp",
                   "host": "127.0.0.1", "port": port, "connect_timeout": 1.0,
                   "write_timeout": 5.0}],
        scanners=[{"id": "s10", "kind": "serial", "device": sim.port, "baudrate": 115200,
                   "terminator": "CR"}],
        stations=[{"id": "ws-10", "name": "下料工位", "scanner": "s10", "steps": [10],
                   "beeper": "front"}])


async def test_a_refusal_beeps_on_the_stations_printer(tmp_path: Path,
                                                       sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    with SerialScannerSim(b"\r") as s10:
        cfg = config(tmp_path, s10, shell.port)
        async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
            assert ctx.devices is not None
            await eventually(lambda: ctx.devices is not None
                             and ctx.devices.scanners["s10"].snapshot().connected,
                             what="scanner open")
            assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
            s10.scan("6901234500017")
            r = await next_event(ws, "station")
            assert r["result"] == "refused" and r["message"].startswith("无法识别的条码")
            await eventually(lambda: BEEP in model.received, what="the beep")
            for code in (card(1), "BADGE-W001"):
                s10.scan(code)
                r = await next_event(ws, "station")
            assert r["result"] == "ok", r
            s10.scan(encode_flow_card("SC-OTHER-1", 1, 1, 5))
            assert (await next_event(ws, "station"))["result"] == "waiting"
            s10.scan("BADGE-W001")
            assert "不是本车间的流转卡" in (await next_event(ws, "station"))["message"]
            await eventually(lambda: model.received.count(BEEP) == 2, what="the second beep")
    # Only the two refusals beeped; what reached the printer is nothing but the beeps.
    paper = EscposInterpreter(get_profile("generic-cn-80"))
    paper.feed(bytes(model.received))
    paper.close()
    assert [e for e in paper.events() if isinstance(e, Beep)] == [Beep(2, 300), Beep(2, 300)]
    assert model.received.count(b"\x1bB") == 2


def test_a_beeper_must_be_a_printer_with_a_buzzer(tmp_path: Path) -> None:
    with SerialScannerSim(b"\r") as s10:
        try:
            config(tmp_path, s10, 9100, profile="tspl-203")
        except ConfigError as e:
            assert "stations[0].beeper: no printer 'front' with a buzzer" in str(e)
        else:
            raise AssertionError("a label printer was accepted as a station's beeper")
