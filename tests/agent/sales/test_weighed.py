"""A sale of weighed and cut goods: journaled with its measures, printed, refused when off."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.escpos.interpreter import decode_text
from drivers.profiles import get_profile
from tests.agent.conftest import SimFactory, agent_client
from tests.agent.sales.conftest import post, records, sales_config
from tests.agent.sales.test_printing import wait_printed

PROFILE = get_profile("generic-cn-80")
SCREWS = {"sku": "JC-1003S", "name": "十字沉头自攻螺丝 散装", "unit": "kg", "weight_g": 1234,
          "unit_price_per_kg": 2580}
CABLE = {"sku": "JC-5002M", "name": "BV铜芯电线 散剪", "unit": "m", "length_mm": 2500,
         "unit_price_per_m": 350}


def weighed_sale(**extra: Any) -> dict[str, Any]:
    """1.234 kg of screws at ¥25.80/kg (¥31.84) and 2.5 m of cable at ¥3.50/m (¥8.75)."""
    return {"order": "XS-20261207-0007", "clerk": "C001", "till": "T1",
            "lines": [dict(SCREWS), dict(CABLE)], "total": 4059,
            "payments": [{"method": "cash", "amount": 4059}], **extra}


async def test_weighed_goods_are_journaled_and_printed(tmp_path: Path,
                                                       sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = sales_config(tmp_path, {"front": shell.port})
    async with agent_client(cfg) as (_, client):
        body = weighed_sale(print={"printer": "front",
                                   "receipt": {"store": {"name": "重庆江北建材旗舰店"}}})
        status, out = await post(client, "/v1/sales", body, key="T1-0007")
        assert status == 201, out
        await wait_printed(client, out["print_job"]["id"])
    [sale] = records(tmp_path / "journal.db", "sale")
    lines = sale["body"]["lines"]
    assert lines[0] == {**SCREWS, "qty": 1, "unit_price": 3184, "amount": 3184}
    assert lines[1] == {**CABLE, "qty": 1, "unit_price": 875, "amount": 875}
    [paper] = model.jobs()
    text = "\n".join(decode_text(paper, PROFILE))
    assert "重量 1.234kg × ¥25.80/kg" in text
    assert "长度 2.500m × ¥3.50/m" in text
    assert "31.84" in text and "40.59" in text


async def test_an_amount_that_does_not_follow_from_the_weight_is_refused(tmp_path: Path) -> None:
    cfg = sales_config(tmp_path)
    async with agent_client(cfg) as (_, client):
        bad = weighed_sale(lines=[{**SCREWS, "amount": 3183}, dict(CABLE)], total=4058,
                           payments=[{"method": "cash", "amount": 4058}])
        status, out = await post(client, "/v1/sales", bad, key="T1-0008")
        assert status == 400, out
        assert out["error"]["field"] == "lines[0].amount"
        assert "round-half-up" in out["error"]["reason"]
        status, out = await post(client, "/v1/sales", weighed_sale(
            lines=[{**SCREWS, "qty": 3}]), key="T1-0009")
        assert (status, out["error"]["field"]) == (400, "lines[0].qty")
    assert records(tmp_path / "journal.db", "sale") == []
