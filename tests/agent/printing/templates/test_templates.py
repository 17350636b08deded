"""Templates: business data validated field by field, laid out per profile, amounts add up."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.printing.templates import build_document
from agent.printing.templates.fields import yuan, yuan_upper
from agent.printing.templates.picking_list import summed_items
from drivers import InvalidInput
from drivers.escpos.document import QR, Barcode, Cell, Columns, Text
from drivers.escpos.encoder import encode
from drivers.profiles import builtin_profiles, get_profile

JOBS = Path(__file__).resolve().parents[4] / "examples" / "jobs"
P80 = get_profile("generic-cn-80")
P58 = get_profile("generic-cn-58")


def job(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((JOBS / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


def texts(doc: Any) -> str:
    out = []
    for b in doc.blocks:
        if isinstance(b, Text):
            out.append(b.text)
        elif isinstance(b, Columns):
            out.extend(c.text for c in b.cells)
    return "\n".join(out)


@pytest.mark.parametrize("name", ["receipt", "sales_slip", "picking_list"])
@pytest.mark.parametrize("profile", sorted(n for n, p in builtin_profiles().items()
                                            if p.language == "escpos"))
def test_examples_build_under_every_profile(name: str, profile: str) -> None:
    p = get_profile(profile)
    doc = build_document(name, job(name)["data"], p)
    for b in doc.blocks:
        if isinstance(b, Columns):
            assert sum(c.width or 0 for c in b.cells) <= p.columns
    assert encode(doc, p).data.startswith(b"\x1b@")


def test_receipt_carries_the_chinese_business_text() -> None:
    doc = build_document("receipt", job("receipt")["data"], P80)
    t = texts(doc)
    for expected in ("重庆江北建材旗舰店", "收银员: 李晓燕", "不锈钢合页", "微信", "现金", "找零",
                     "应收", "会员: 王先生", "卡号: *******1234", "谢谢惠顾"):
        assert expected in t
    assert any(isinstance(b, QR) for b in doc.blocks)


def test_receipt_on_58mm_puts_numbers_under_the_name() -> None:
    doc = build_document("receipt", job("receipt")["data"], P58)
    rows = [b for b in doc.blocks if isinstance(b, Columns) and b.cells[0].text.endswith("片")]
    assert rows and all(len(r.cells) == 3 for r in rows)


@pytest.mark.parametrize(("path", "value", "field"), [
    (("lines", 0, "amount"), 1, "data.lines[0].amount"),
    (("lines", 1, "qty"), 1.5, "data.lines[1].qty"),
    (("lines", 0, "unit_price"), "8.50", "data.lines[0].unit_price"),
    (("total",), 1, "data.total"),
    (("payments", 0, "method"), "bitcoin", "data.payments[0].method"),
    (("change",), 0, "data.change"),
    (("time",), "yesterday", "data.time"),
    (("store",), "shop", "data.store"),
])
def test_receipt_errors_name_the_field(path: tuple[Any, ...], value: object, field: str) -> None:
    data = copy.deepcopy(job("receipt")["data"])
    target = data
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    with pytest.raises(InvalidInput) as e:
        build_document("receipt", data, P80)
    assert e.value.field == field


def test_picking_list_sums_and_sorts_by_location_then_sku() -> None:
    data = job("picking_list")["data"]
    items = summed_items(data)
    keys = [(it.location, it.sku) for it in items]
    assert keys == sorted(keys)
    hinge = next(it for it in items if it.sku == "JC-1001")
    expected = sum(ln["qty"] for o in data["orders"] for ln in o["lines"] if ln["sku"] == "JC-1001")
    assert hinge.qty == expected == 56
    doc = build_document("picking_list", data, P80)
    boxes = [b for b in doc.blocks if isinstance(b, Columns) and b.cells[0].text == "□"]
    assert len(boxes) == len(items)


def test_picking_list_refuses_a_sku_with_two_locations() -> None:
    data = copy.deepcopy(job("picking_list")["data"])
    data["orders"][1]["lines"][2]["location"] = "Z-99-99"
    with pytest.raises(InvalidInput) as e:
        build_document("picking_list", data, P80)
    assert e.value.field == "data.orders[1].lines[2]"


def test_sales_slip_prints_total_in_capitals_and_order_barcode() -> None:
    doc = build_document("sales_slip", job("sales_slip")["data"], P80)
    t = texts(doc)
    assert "大写: 肆仟壹佰壹拾玖元整" in t
    assert "永盛家装 (K003)" in t
    assert "客户签收" in t
    assert any(isinstance(b, Barcode) and b.data == "XS-20261129-0042" for b in doc.blocks)


def test_unknown_template_is_named() -> None:
    with pytest.raises(InvalidInput) as e:
        build_document("invoice", {}, P80)
    assert e.value.field == "template"


def test_self_test_shows_box_printer_and_qr() -> None:
    doc = build_document("self_test", {"box_id": "CQ-JB-001-B1", "addresses": ["127.0.0.1"],
                                       "printer_id": "front", "time": "2026-11-29T08:00:00+08:00",
                                       "url": "http://127.0.0.1:8470/"}, P58)
    assert "盒子编号: CQ-JB-001-B1" in texts(doc)
    assert any(isinstance(b, QR) and b.data == "http://127.0.0.1:8470/" for b in doc.blocks)


@pytest.mark.parametrize(("fen", "text", "upper"), [
    (0, "0.00", "零元整"), (1, "0.01", "壹分"), (10, "0.10", "壹角"), (100, "1.00", "壹元整"),
    (1005, "10.05", "壹拾元零伍分"), (123450, "1,234.50", "壹仟贰佰叁拾肆元伍角"),
    (1000500, "10,005.00", "壹万零伍元整"), (100010000, "1,000,100.00", "壹佰万零壹佰元整"),
    (-250, "-2.50", "负贰元伍角"),
])
def test_money_formats(fen: int, text: str, upper: str) -> None:
    assert yuan(fen) == text
    assert yuan_upper(fen) == upper


@given(st.integers(min_value=0, max_value=10**12))
def test_capitals_use_only_capital_digits_and_units(fen: int) -> None:
    s = yuan_upper(fen)
    assert set(s) <= set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")
    assert "零零" not in s
    assert s.endswith(("整", "角", "分"))


def test_cells_are_plain_values() -> None:
    assert Cell("合计", 8, "right").width == 8


@pytest.mark.parametrize("name", ["receipt", "sales_slip", "picking_list"])
def test_a_reprint_is_headed_with_the_original_and_the_reason(name: str) -> None:
    data = {**job(name)["data"], "reprint": {"of": "m-7f3a", "reason": "客户丢失，补打一张"}}
    doc = build_document(name, data, P58)
    head = texts(type(doc)(doc.blocks[:3]))
    assert "补打" in head and "原单: m-7f3a" in head and "补打原因: 客户丢失，补打一张" in head
    plain = build_document(name, job(name)["data"], P58)
    assert doc.blocks[4:] == plain.blocks and "补打" not in texts(plain)
    # GB18030 on the paper, like every other line.
    assert "补打原因".encode("gb18030") in encode(doc, P58).data
    flagged = build_document(name, {**job(name)["data"], "reprint": True}, P80)
    assert "补打" in texts(flagged) and "原单" not in texts(flagged)


@pytest.mark.parametrize(("reprint", "field"), [
    ("yes", "data.reprint"),
    ({"of": "m-1"}, "data.reprint.reason"),
    ({"reason": "丢了"}, "data.reprint.of"),
    ({"of": "m-1", "reason": "换\x1b行"}, "data.reprint.reason"),
    ({"of": "m-1", "reason": "长" * 201}, "data.reprint.reason"),
])
def test_a_bad_reprint_mark_names_the_field(reprint: object, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        build_document("picking_list", {**job("picking_list")["data"], "reprint": reprint}, P80)
    assert e.value.field == field
