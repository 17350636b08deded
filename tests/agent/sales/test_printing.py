"""What reaches the paper: a sale's receipt with a QR code that check-receipt verifies offline,
and the day's Z report with its per-method and per-clerk totals, perpetual totals and
checkpoint."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import zxingcpp

from agent.cli import main
from drivers.escpos.interpreter import decode_text
from drivers.escpos.render import render_bytes
from drivers.profiles import get_profile
from tests.agent.conftest import Client, SimFactory, agent_client, eventually
from tests.agent.sales.conftest import post, records, sale, sales_config

PROFILE = get_profile("generic-cn-80")
RECEIPT = {"store": {"name": "重庆江北建材旗舰店", "address": "重庆市江北区建新北路16号",
                     "phone": "023-6788 1234"},
           "member": {"name": "王先生", "card": "VIP88001234", "points": 1260},
           "footer": ["谢谢惠顾，欢迎再次光临！"]}


def qr_codes(data: bytes) -> list[str]:
    """The QR texts on the paper the printer made of `data`."""
    image = render_bytes(data, PROFILE).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(image)]


async def wait_printed(client: Client, job_id: str) -> None:
    async def printed() -> bool:
        r = await client.get(f"/v1/print-jobs/{job_id}")
        return r.status == 200 and (await r.json())["state"] == "printed"
    await eventually(printed, what=f"job {job_id} printed")


async def test_the_receipt_qr_verifies_offline(tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    db = tmp_path / "journal.db"
    cfg = sales_config(tmp_path, {"front": shell.port})
    async with agent_client(cfg) as (_, client):
        body = sale(payments=[{"method": "cash", "amount": 59200}],
                    print={"printer": "front", "receipt": {**RECEIPT, "change": 800}})
        status, out = await post(client, "/v1/sales", body, key="T1-0041")
        assert status == 201, out
        job_id = f"sale-{out['log']}-{out['seq']}-receipt"
        assert out["print_job"]["id"] == job_id
        await wait_printed(client, job_id)
        # A retry finds the same record and the same job: one receipt on paper.
        status, again = await post(client, "/v1/sales", body, key="T1-0041")
        assert (status, again["print_job"]["id"]) == (200, job_id)
    [paper] = model.jobs()
    assert [out["receipt_code"]] == qr_codes(paper)
    text = "\n".join(decode_text(paper, PROFILE))
    assert "XS-20261129-0041" in text and "王先生" in text and "找零" in text
    key_file = tmp_path / "keys" / "box.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    genesis = records(db)[0]["body"]
    assert key_file.read_bytes() not in db.read_bytes()
    qr = out["receipt_code"]
    assert main(["journal", "check-receipt", qr, "--pubkey", genesis["pubkey"]]) == 0
    forged = qr.replace(":59200:", ":5920:")
    assert forged != qr
    assert main(["journal", "check-receipt", forged, "--pubkey", genesis["pubkey"]]) == 1


async def test_a_receipt_that_would_not_print_refuses_the_sale(tmp_path: Path) -> None:
    cfg = sales_config(tmp_path, {"front": 1})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"printer": "后厨"}, "print.printer"),
        ({"receipt": {"store": {}}}, "print.receipt.store.name"),
        ({"receipt": {"qr": "x"}}, "print.receipt.qr"),
        ({"receipt": {"change": 100}}, "print.receipt.change"),
        ({"receipt": {"footer": "谢谢"}}, "print.receipt.footer"),
        ({"paper": "A4"}, "print.paper"),
    ]
    async with agent_client(cfg) as (_, client):
        for pr, field in cases:
            status, out = await post(client, "/v1/sales", sale(print=pr))
            assert (status, out["error"]["field"]) == (400, field), (field, out)
        long_till = "收银台-一楼东侧-靠窗位置-二号收银机"
        status, out = await post(client, "/v1/sales", {**sale(print={}), "till": long_till})
        assert (status, out["error"]["field"]) == (400, "till"), out
    assert records(tmp_path / "journal.db", "sale") == []


def _lines_with(lines: list[str], *words: str) -> list[str]:
    return [x for x in lines if all(w in x for w in words)]


async def test_day_close_prints_the_z_report(tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    db = tmp_path / "journal.db"
    cfg = sales_config(tmp_path, {"front": shell.port})
    async with agent_client(cfg) as (_, client):
        _, s1 = await post(client, "/v1/sales", sale())
        cash = [{"method": "cash", "amount": 3600}]
        slide = [{"sku": "JC-1002", "name": "静音抽屉滑轨 三节", "qty": 1, "unit_price": 3600}]
        await post(client, "/v1/sales", {"order": "XS-20261129-0044", "clerk": "C002",
                                                 "lines": slide, "payments": cash})
        await post(client, "/v1/refunds", {"sale_seq": s1["seq"], "reason": "规格不符",
                                           "clerk": "C001", "lines": [
                                               {"sku": "JC-1003", "name": "十字沉头自攻螺丝",
                                                "qty": 2, "unit_price": 1800}]})
        status, z = await post(client, "/v1/day-close", {"day": "2026-11-29", "clerk": "C001",
                                                        "cash_counted": 3500}, key="z-1129")
        assert status == 201, z
        assert z["period"]["methods"] == {"cash": 3600, "wechat": 55600}
        assert z["period"]["counts"]["sale"] == 2 and z["z"] == 1
        assert z["checkpoint"].startswith(f"storelink.journal/{z['log']}\n{z['seq'] + 1}\n")
        await wait_printed(client, z["print_job"]["id"])
        status, again = await post(client, "/v1/day-close", {"day": "2026-11-29",
                                                            "clerk": "C001",
                                                            "cash_counted": 3500},
                                   key="z-1129")
        assert (status, again["seq"], again["print_job"]["id"]) == (200, z["seq"],
                                                                     z["print_job"]["id"])
        head = await (await client.get("/v1/journal/head")).json()
        assert head["last_close"] == {"seq": z["seq"], "z": 1}
    [paper] = model.jobs()
    lines = decode_text(paper, PROFILE)
    assert _lines_with(lines, "日结单 / Z报表")
    assert _lines_with(lines, "营业日: 2026-11-29", "Z1")
    assert _lines_with(lines, "微信 收1笔 退1笔", "556.00")
    assert _lines_with(lines, "收入 592.00", "退出 36.00")
    assert _lines_with(lines, "现金 收1笔 退0笔", "36.00")
    assert _lines_with(lines, "收银员 C001", "556.00")
    assert _lines_with(lines, "收银员 C002", "36.00")
    assert _lines_with(lines, "现金差额", "-1.00")
    assert _lines_with(lines, "累计净额", "592.00")
    assert f"storelink.journal/{z['log']}" in "".join(lines)  # the checkpoint note, wrapped
    assert qr_codes(paper) == [z["receipt_code"]]
    assert ":DAY-CLOSE:" in z["receipt_code"]
    genesis = records(db)[0]["body"]
    assert main(["journal", "check-receipt", z["receipt_code"], "--pubkey",
                 genesis["pubkey"]]) == 0
    assert main(["journal", "verify", str(db), "--checkpoint", str(_note(tmp_path, z))]) == 0


def _note(tmp_path: Path, z: dict[str, Any]) -> Path:
    path = tmp_path / "z1.checkpoint"
    path.write_text(z["checkpoint"], encoding="utf-8")
    return path
