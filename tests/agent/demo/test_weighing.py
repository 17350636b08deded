"""The demo's weighing step: screws on a simulated scale, weighed, sold by weight, printed."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path
from typing import Any

from agent.config import parse_config
from agent.demo.weighing import GRAMS, SCALE_ID, run_weighing_demo, scale_toml
from agent.demo.world import Http
from drivers.escpos.interpreter import decode_text
from drivers.profiles import get_profile
from drivers.sim.scale import ScaleSim
from tests.agent.conftest import SimFactory
from tests.agent.devices.conftest import QUIET_DISCOVERY, daemon_client
from tests.agent.sales.conftest import records


async def test_the_demo_weighs_the_screws_and_sells_them(tmp_path: Path,
                                                         sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    said: list[str] = []
    with ScaleSim("ad-continuous", interval_s=0.05) as scale:
        extra = tomllib.loads(scale_toml(scale.port))
        raw: dict[str, Any] = {
            "box": {"id": "CQ-JB-001-B1", "store": "CQ-JB-001", "name": "重庆江北建材旗舰店",
                    "state_dir": str(tmp_path)},
            "queue": {"poll_interval_s": 0.2, "backoff_max_s": 1.0},
            "discovery": QUIET_DISCOVERY, **extra,
            "printers": [{"id": "front", "profile": "generic-cn-80", "transport": "tcp",
                          "host": "127.0.0.1", "port": shell.port}],
            "journal": {"receipt_printer": "front"}}
        async with daemon_client(parse_config(raw)) as (_, client):
            box = Http(str(client.make_url("")).rstrip("/"))
            grams, answer = await asyncio.to_thread(run_weighing_demo, box, scale, said.append)
    assert grams == GRAMS and "seq" in answer, said
    assert any("409 在晃动" in line for line in said), said
    assert any(f"200 {GRAMS} g" in line for line in said), said
    assert any("printed" in line for line in said), said
    [sale] = records(tmp_path / "journal.db", "sale")
    [line] = sale["body"]["lines"]
    assert (line["weight_g"], line["unit_price_per_kg"], line["amount"]) == (1234, 2580, 3184)
    [paper] = model.jobs()
    text = "\n".join(decode_text(paper, get_profile("generic-cn-80")))
    assert "重量 1.234kg × ¥25.80/kg" in text and "31.84" in text
    assert SCALE_ID == "bench"
