"""The station's code sheet printed on a simulated ESC/POS printer: every code on the paper reads
back (zxing-cpp) as the station's reasons, the quantities 1–20 and the undo code."""

from __future__ import annotations

from pathlib import Path

import pytest
import zxingcpp

from agent.printing.templates import build_document
from drivers import InvalidInput
from drivers.escpos.document import Text
from drivers.escpos.encoder import encode
from drivers.escpos.render import render_bytes
from drivers.profiles import get_profile
from tests.agent.conftest import SimFactory, agent_client, eventually
from tests.agent.sales.conftest import post
from tests.agent.station.conftest import station_config


async def test_the_defect_sheet_carries_every_code(tmp_path: Path,
                                                   sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = station_config(
        tmp_path, None,
        printers=[{"id": "front", "name": "车间小票机", "profile": "generic-cn-80",
                   "transport": "tcp", "host": "127.0.0.1", "port": shell.port}],
        scanners=[{"id": "s10", "kind": "serial", "device": str(tmp_path / "no-scanner")}],
        stations=[{"id": "ws-10", "name": "下料工位", "scanner": "s10", "steps": [10],
                   "defect_reasons": ["尺寸超差", "毛刺", "划伤"]}])
    async with agent_client(cfg) as (_, client):
        status, out = await post(client, "/v1/stations/ws-10/defect-sheet", {})
        assert status == 201, out

        async def printed() -> bool:
            r = await client.get(f"/v1/print-jobs/{out['job']}")
            return bool((await r.json())["state"] == "printed")

        await eventually(printed, what="sheet printed")
        status, err = await post(client, "/v1/stations/ws-10/defect-sheet", {"printer": "x"})
        assert (status, err["error"]["field"]) == (400, "printer")
    image = render_bytes(bytes(model.received), get_profile("generic-cn-80")).convert("L")
    codes = sorted(r.text for r in zxingcpp.read_barcodes(image))
    assert codes == sorted(["SLDR:1", "SLDR:2", "SLDR:3", "SLUNDO",
                            *(f"SLDQ:{n}" for n in range(1, 21))])


def test_the_defect_sheet_is_a_named_template_that_names_bad_fields() -> None:
    profile = get_profile("generic-cn-58")
    doc = build_document("defect_sheet", {"station": "焊接工位", "steps": [20, 30],
                                          "reasons": ["焊点不良", "尺寸超差"]}, profile)
    image = render_bytes(encode(doc, profile).data, profile).convert("L")
    codes = {r.text for r in zxingcpp.read_barcodes(image)}
    assert {"SLDR:1", "SLDR:2", "SLUNDO", "SLDQ:20"} <= codes and "SLDR:3" not in codes
    texts = [b.text for b in doc.blocks if isinstance(b, Text)]
    assert "工位 焊接工位（工序 20、30）" in texts and "2. 尺寸超差" in texts
    for data, field in (({"steps": [10]}, "data.station"),
                        ({"station": "下料", "steps": []}, "data.steps"),
                        ({"station": "下料", "steps": ["10"]}, "data.steps"),
                        ({"station": "下料", "steps": [10], "reasons": ["毛" * 65]},
                         "data.reasons[0]")):
        with pytest.raises(InvalidInput) as e:
            build_document("defect_sheet", data, profile)
        assert e.value.field == field
