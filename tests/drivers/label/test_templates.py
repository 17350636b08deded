"""Templates: every one prints under TSPL and ZPL at 203 and 300 dpi, legible and scannable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops

from drivers import InvalidInput
from drivers.label.document import LabelDocument
from drivers.label.drawing import DrawText
from drivers.label.flowcard import FlowCard, parse_flow_card
from drivers.label.interpret import encode_label, interpret
from drivers.label.render import preview
from drivers.label.templates import (
    build_template,
    flow_card,
    mask_phone,
    price_label,
    shipping_label,
    yuan,
)
from drivers.profiles import PrinterProfile, get_profile

from .samples import CATALOG, ORDERS, TASKS, flow_card_data, price_data, shipping_data

PROFILES = [get_profile(n) for n in ("tspl-203", "tspl-203-bitmap", "tspl-300", "zpl-203",
                                     "zpl-300-cjk")]
ZPL_203_CJK = replace(get_profile("zpl-203"), label_cjk_font="E:SIMSUN.TTF")
ZPL_300 = replace(get_profile("zpl-300-cjk"), label_cjk_font="")
TSPL_300_BITMAP = replace(get_profile("tspl-300"), label_cjk_font="")


def decoded(img: Image.Image) -> set[tuple[str, str]]:
    return {(r.format.name, r.text) for r in zxingcpp.read_barcodes(img)}


FLOW_60 = flow_card_data(TASKS[0], 3)
FLOW_100 = flow_card_data(TASKS[1], 12, "100x70")
PRICE = price_data(CATALOG[0])
SHIP = shipping_data(ORDERS[0])

CASES: list[tuple[str, Callable[[object], LabelDocument], dict[str, Any], set[tuple[str, str]],
                  set[str]]] = [
    ("flow_card 60x40", flow_card, FLOW_60,
     {("QRCode", "SLFC1:SC-20261129-001:3/13:80:NF7NAG4D")},
     {"工艺流转卡", "3/13", "任务 SC-20261129-001", "品号 CP-8801", "数量 80 件",
      "品名 不锈钢门铰链 组件", "工序", "下料→冲压→焊接→抛光→质检→", "包装", "日期 2026-11-29"}),
    ("flow_card 100x70", flow_card, FLOW_100,
     {("QRCode", "SLFC1:SC-20261129-002:12/12:200:JQBKQKYR")},
     {"工艺流转卡", "12/12", "任务号 SC-20261129-002", "品号 CP-3302", "品名 速冻手抓饼 20片装",
      "数量 200 件", "2026-11-29", "工序", "合格数", "报废数", "操作员", "10 和面", "20 压片",
      "30 速冻", "40 包装"}),
    ("price_label", price_label, PRICE, {("EAN13", "6901234500011")},
     {"不锈钢合页 4寸", "规格 304 / 2.5mm", "￥8.50", "/片", "会员价", "￥7.80", "JC-1001"}),
    ("shipping_label", shipping_label, SHIP, {("Code128", "XS-20261129-0041")},
     {"订单 XS-20261129-0041", "1/3", "线路 江北-观音桥线", "永盛五金店", "客户编号 K002",
      "地址 重庆市渝北区两路镇空港大道88号", "电话 139****9002", "发货日期 2026-11-29"}),
]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize(("name", "make", "data", "codes", "words"), CASES,
                         ids=[c[0] for c in CASES])
def test_every_template_prints_legibly_and_scans(
        name: str, make: Callable[[object], LabelDocument], data: dict[str, Any],
        codes: set[tuple[str, str]], words: set[str], profile: PrinterProfile) -> None:
    doc = make(data)
    (img,) = preview(doc, profile)
    assert decoded(img) == codes
    (label,) = interpret(encode_label(doc, profile), profile)
    drawn = {e.text for e in label.elements if isinstance(e, DrawText)}
    if profile.label_cjk_font:  # Chinese went as text: the printer decodes exactly our words
        assert drawn == words
    else:  # Chinese went as pictures: no text commands at all
        assert drawn == set()


@pytest.mark.parametrize(("reference", "same"), [
    (ZPL_203_CJK, [get_profile("zpl-203"), get_profile("tspl-203-bitmap")]),
    (get_profile("zpl-300-cjk"), [ZPL_300, TSPL_300_BITMAP]),
])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bitmap_text_is_the_same_picture_as_native_text(
        reference: PrinterProfile, same: list[PrinterProfile], case: tuple[Any, ...]) -> None:
    doc = case[1](case[2])
    (expected,) = preview(doc, reference)
    for profile in same:
        (img,) = preview(doc, profile)
        assert ImageChops.difference(expected, img).getbbox() is None, profile.name


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@pytest.mark.parametrize("size", ["60x40", "100x70"])
def test_flow_card_qr_round_trip(profile: PrinterProfile, size: str) -> None:
    for task in TASKS:
        data = flow_card_data(task, 1, size)
        (img,) = preview(flow_card(data), profile)
        (payload,) = [text for kind, text in decoded(img) if kind == "QRCode"]
        assert parse_flow_card(payload) == FlowCard(task["task_no"], 1, int(data["split"][2:]),
                                                    task["split_size"])
        corrupted = payload.replace(f":{task['split_size']}:", f":{task['split_size'] + 1}:")
        with pytest.raises(InvalidInput, match="check does not match") as e:
            parse_flow_card(corrupted)
        assert e.value.field == "payload.check"


def test_every_catalog_item_and_order_fits() -> None:
    for item in CATALOG:
        doc = price_label(price_data(item))
        assert doc.width == 60
    for order in ORDERS:
        for parcel in ("1/3", "12/12"):
            assert shipping_label(shipping_data(order, parcel)).height == 70


@pytest.mark.parametrize(("make", "data", "field", "reason"), [
    (flow_card, "x", "data", "must be an object"),
    (flow_card, FLOW_60 | {"colour": 1}, "data.colour", "unknown field"),
    (flow_card, {k: v for k, v in FLOW_60.items() if k != "qty"}, "data.qty", "is required"),
    (flow_card, FLOW_60 | {"qty": "80"}, "data.qty", "must be an integer"),
    (flow_card, FLOW_60 | {"split": "13/3"}, "data.split", "beyond"),
    (flow_card, FLOW_60 | {"split": "3-13"}, "data.split", "n/N"),
    (flow_card, FLOW_60 | {"task_no": "sc 001"}, "data.task_no", "QR code"),
    (flow_card, FLOW_60 | {"date": "2026-02-30"}, "data.date", "YYYY-MM-DD"),
    (flow_card, FLOW_60 | {"date": "20261129"}, "data.date", "YYYY-MM-DD"),
    (flow_card, FLOW_60 | {"size": "40x30"}, "data.size", "60x40, 100x70"),
    (flow_card, FLOW_60 | {"route": []}, "data.route", "non-empty"),
    (flow_card, FLOW_60 | {"route": ["下料", 5]}, "data.route[1]", "step name"),
    (flow_card, FLOW_60 | {"route": [{"step": "x", "name": "下料"}]}, "data.route[0].step",
     "integer"),
    (flow_card, FLOW_60 | {"product_name": "不锈钢门铰链组件 加厚款 带缓冲 静音型号"},
     "data.product_name", "too long for the 60×40 mm label: text does not fit its box"),
    (flow_card, FLOW_60 | {"route": ["下料一二三四五六"] * 4}, "data.route",
     "too long for the 60×40 mm label"),
    (flow_card, FLOW_100 | {"route": ["工序"] * 7}, "data.route", "rows for 6"),
    (price_label, price_data(CATALOG[0]) | {"barcode": CATALOG[0]["barcode"]}, "data.barcode",
     "check digit is wrong \\(expected 1\\).*CODE128"),
    (price_label, PRICE | {"price": -1}, "data.price", "0-99999999"),
    (price_label, PRICE | {"symbology": "QR"}, "data.symbology", "EAN13 or CODE128"),
    (price_label, PRICE | {"name": "名" * 40}, "data.name", "too long for the 60×40 mm label"),
    (shipping_label, SHIP | {"phone": "call me"}, "data.phone", "phone number"),
    (shipping_label, SHIP | {"parcel": "0/3"}, "data.parcel", "n/N"),
    (shipping_label, SHIP | {"order_no": "订单1"}, "data.order_no", "ASCII"),
    (shipping_label, SHIP | {"customer": "永盛装饰工程有限公司江北分公司第二门市部"},
     "data.customer", "too long for the 100×70 mm label"),
])
def test_bad_data_names_the_field(make: Callable[[object], LabelDocument], data: object,
                                  field: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as e:
        make(data)
    assert e.value.field == field


def test_catalog_barcode_with_a_bad_check_digit_prints_as_code128_when_asked() -> None:
    item = CATALOG[0]
    doc = price_label(price_data(item) | {"barcode": item["barcode"], "symbology": "CODE128"})
    (img,) = preview(doc, get_profile("tspl-203"))
    assert decoded(img) == {("Code128", "6901234500017")}


def test_build_template() -> None:
    assert build_template("shipping_label", SHIP) == shipping_label(SHIP)
    with pytest.raises(InvalidInput, match="unknown template") as e:
        build_template("receipt", {})
    assert e.value.field == "template"


def test_money_and_phone_formatting() -> None:
    assert [yuan(v) for v in (0, 5, 850, 129900)] == ["￥0.00", "￥0.05", "￥8.50", "￥1299.00"]
    assert mask_phone("13900139002") == "139****9002"
    assert mask_phone("023-67891234") == "023-****1234"
    assert mask_phone("+86 139 0013 9002") == "+86 139 **** 9002"
    assert mask_phone("123456") == "12**56"
