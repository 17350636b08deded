"""Barcode-scale labels scanned at the till: events carry the item and the measure, or why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, parse_config
from drivers.sim.scanner import SerialScannerSim
from tests.agent.conftest import eventually
from tests.agent.devices.conftest import QUIET_DISCOVERY, daemon_client, next_event

FORMATS = [{"layout": "21 PPPPP VVVVV C"}, {"layout": "22 PPPPP WWWWW C", "decimals": 3},
           {"layout": "2F PPPP X VVVVV C"}]


async def test_weight_and_price_labels_and_refusals(tmp_path: Path) -> None:
    with SerialScannerSim(b"\r") as sim:
        cfg = parse_config({
            "box": {"id": "CQ-JB-001-B1", "store": "重庆江北建材旗舰店",
                    "state_dir": str(tmp_path)},
            "discovery": QUIET_DISCOVERY, "variable_measure": FORMATS,
            "scanners": [{"id": "till", "name": "收银台扫码枪", "kind": "serial",
                          "device": sim.port}]})
        async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
            assert ctx.devices is not None
            till = ctx.devices.scanners["till"]
            await eventually(lambda: till.snapshot().connected, what="scanner open")
            for code in ("]E02204011012344", "]E02101003025804", "]E02101003025807",
                         "2310037025807", "]E06901234500035"):
                sim.scan(code)
            events = [await next_event(ws, "scan") for _ in range(5)]
    weight, price, bad_check, bad_price_check, plain = events
    assert weight["measure"] == {"layout": "22 PPPPP WWWWW C", "item": "04011",
                                 "weight_g": 1234}
    assert price["measure"] == {"layout": "21 PPPPP VVVVV C", "item": "01003",
                                "price_fen": 2580}
    assert bad_check["refused"] == "ean13.check_digit: is 7, expected 4"
    assert "measure" not in bad_check
    assert bad_price_check["refused"].startswith("ean13.price_check_digit: is 7, expected 2")
    assert "measure" not in plain and "refused" not in plain


@pytest.mark.parametrize(("formats", "error"), [
    ([{"layout": "21 PPPPP VVVVV"}], "variable_measure[0].layout: must be 13 symbols"),
    ([{"layout": "22 PPPPP WWWWW C", "decimals": 5}], "variable_measure[0].decimals: must be"),
    ([{"layout": "21 PPPPP VVVVV C", "colour": 1}], "variable_measure[0].colour: unknown key"),
])
def test_bad_formats_name_the_field(tmp_path: Path, formats: list[dict[str, object]],
                                    error: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config({"box": {"id": "b", "state_dir": str(tmp_path)},
                      "variable_measure": formats})
    assert any(e.startswith(error) for e in exc.value.errors), exc.value.errors
