"""Label documents: JSON parsing errors name the field; layout checks every fit, in dots."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from drivers import InvalidInput
from drivers.label.document import QR, Barcode, LabelDocument, Text, parse_label
from drivers.label.layout import (
    BarcodePlan,
    BarPlan,
    QrPlan,
    TextPlan,
    dots,
    layout,
    line_boxes,
    wrap,
)


def doc(*elements: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"width": 60, "height": 40, "elements": list(elements)} | top


def png(w: int = 20, h: int = 10) -> str:
    out = io.BytesIO()
    Image.new("L", (w, h), 0).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def test_parse_a_full_document() -> None:
    d = parse_label(doc(
        {"type": "text", "x": 2, "y": 2, "text": "工艺流转卡", "size": 3.5, "bold": True},
        {"type": "barcode", "x": 2, "y": 8, "symbology": "EAN13", "data": "6901234500011"},
        {"type": "qr", "x": 40, "y": 20, "data": "SLFC1:A:1/1:1:AHISVVVA", "size": 18},
        {"type": "box", "x": 1, "y": 1, "width": 58, "height": 38},
        {"type": "line", "x": 1, "y": 20, "x2": 38, "y2": 20, "thickness": 0.5},
        {"type": "image", "x": 1, "y": 30, "png": png(), "width": 10, "dither": True},
        gap=3, media="mark", dpi=300, direction=1, copies=2))
    assert isinstance(d, LabelDocument)
    assert (d.width, d.height, d.gap, d.media, d.dpi, d.direction, d.copies) == \
        (60, 40, 3, "mark", 300, 1, 2)
    assert d.elements[0] == Text(2, 2, "工艺流转卡", 3.5, 0, True)
    assert d.elements[1] == Barcode(2, 8, "EAN13", "6901234500011")
    assert isinstance(d.elements[2], QR) and d.elements[2].ec == "M"


@pytest.mark.parametrize(("raw", "field", "reason"), [
    ([], "document", "must be an object"),
    (doc(color="red"), "document.color", "unknown field"),
    ({"height": 40, "elements": []}, "document.width", "is required"),
    (doc(width="60"), "document.width", "must be a number"),
    (doc(width=float("nan")), "document.width", "must be a number"),
    (doc(height=1000), "document.height", "must be 5-500 mm"),
    (doc(dpi=600), "document.dpi", "must be one of 203, 300"),
    (doc(copies=0), "document.copies", "must be 1-999"),
    (doc(media="roll"), "document.media", "must be one of"),
    ({"width": 60, "height": 40}, "document.elements", "must be a list"),
    (doc({"type": "circle", "x": 1, "y": 1}), "document.elements[0].type", "unknown element"),
    (doc({"type": "text", "y": 1, "text": "a"}), "document.elements[0].x", "is required"),
    (doc({"type": "text", "x": 61, "y": 1, "text": "a"}), "document.elements[0].x", "0-60 mm"),
    (doc({"type": "text", "x": True, "y": 1, "text": "a"}), "document.elements[0].x", "number"),
    (doc({"type": "text", "x": 1, "y": 1, "text": ""}), "document.elements[0].text", "empty"),
    (doc({"type": "text", "x": 1, "y": 1, "text": "a\tb"}), "document.elements[0].text",
     "control character"),
    (doc({"type": "text", "x": 1, "y": 1, "text": "a", "rotation": 45}),
     "document.elements[0].rotation", "must be one of 0, 90, 180, 270"),
    (doc({"type": "text", "x": 1, "y": 1, "text": "a", "font": "x"}),
     "document.elements[0].font", "unknown field"),
    (doc({"type": "barcode", "x": 1, "y": 1, "symbology": "EAN13", "data": "6901234500017"}),
     "document.elements[0].data", "check digit is wrong"),
    (doc({"type": "barcode", "x": 1, "y": 1, "symbology": "CODE39", "data": "abc"}),
     "document.elements[0].data", "CODE39 takes"),
    (doc({"type": "barcode", "x": 1, "y": 1, "symbology": "PDF417", "data": "1"}),
     "document.elements[0].symbology", "must be one of"),
    (doc({"type": "qr", "x": 1, "y": 1, "data": "x", "ec": "X"}), "document.elements[0].ec",
     "must be one of"),
    (doc({"type": "line", "x": 1, "y": 1, "x2": 5, "y2": 5}), "document.elements[0]",
     "horizontal"),
    (doc({"type": "image", "x": 1, "y": 1, "png": "***", "width": 5}),
     "document.elements[0].png", "base64"),
    (doc({"type": "image", "x": 1, "y": 1, "png": base64.b64encode(b"GIF89a").decode(),
          "width": 5}), "document.elements[0].png", "not a PNG"),
    (doc({"type": "image", "x": 1, "y": 1, "png": png()}), "document.elements[0].width",
     "is required"),
])
def test_parse_errors_name_the_field(raw: object, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as e:
        parse_label(raw)
    assert e.value.field == field


def test_wrap_prefers_spaces_and_breaks_between_han_characters() -> None:
    assert wrap("重庆市渝北区两路镇空港大道88号", 12) == ["重庆市渝北区", "两路镇空港大", "道88号"]
    assert wrap("M4 screw box", 8) == ["M4 screw", "box"]
    assert wrap("ABCDEFGHIJ", 4) == ["ABCD", "EFGH", "IJ"]
    assert wrap("第一行\n第二行", 20) == ["第一行", "第二行"]


@pytest.mark.parametrize("dpi", [203, 300])
def test_layout_converts_mm_to_dots(dpi: int) -> None:
    d = parse_label(doc(
        {"type": "text", "x": 2, "y": 2, "text": "品名 合页", "size": 3},
        {"type": "barcode", "x": 2, "y": 8, "data": "AB-1", "height": 10, "module": 0.25},
        {"type": "qr", "x": 40, "y": 20, "data": "hello", "size": 18},
        {"type": "line", "x": 1, "y": 20, "x2": 38, "y2": 20, "thickness": 0.5}))
    plan = layout(d, dpi)
    assert (plan.width, plan.height) == (dots(60, dpi), dots(40, dpi))
    text, bar, qr, line = plan.items
    assert isinstance(text, TextPlan) and isinstance(bar, BarcodePlan)
    assert isinstance(qr, QrPlan) and isinstance(line, BarPlan)
    assert text.h == 2 * text.cw and abs(text.h - 3 * dpi / 25.4) <= 1
    assert (bar.module, bar.bar_h) == ({203: 2, 300: 3}[dpi], dots(10, dpi))
    assert qr.modules == 21 and qr.cell == dots(18, dpi) // 21
    assert (line.x, line.y, line.w, line.h) == (dots(1, dpi), dots(20, dpi), dots(37, dpi),
                                                dots(0.5, dpi))


def test_text_that_does_not_fit_its_box_names_the_element() -> None:
    d = parse_label(doc({"type": "box", "x": 1, "y": 1, "width": 5, "height": 5},
                        {"type": "text", "x": 2, "y": 2, "text": "不锈钢门铰链 组件", "width": 20}))
    with pytest.raises(InvalidInput, match=r"text does not fit its box: needs 25\.5 mm") as e:
        layout(d, 203)
    assert e.value.field == "document.elements[1]"
    two_lines = parse_label(doc({"type": "text", "x": 2, "y": 2, "text": "不锈钢门铰链 组件",
                                 "width": 20, "lines": 2}))
    assert isinstance(item := layout(two_lines, 203).items[0], TextPlan)
    assert item.lines == ("不锈钢门铰链", "组件")


@pytest.mark.parametrize(("element", "reason"), [
    ({"type": "text", "x": 50, "y": 2, "text": "数量 80 件"}, "does not fit"),
    ({"type": "text", "x": 2, "y": 38, "text": "底"}, "bottom edge"),
    ({"type": "text", "x": 58, "y": 2, "text": "竖排", "rotation": 90}, "right edge"),
    ({"type": "barcode", "x": 40, "y": 2, "data": "XS-20261129-0041"}, "right edge"),
    ({"type": "barcode", "x": 2, "y": 30, "data": "1", "height": 8}, "bottom edge"),
    ({"type": "qr", "x": 2, "y": 2, "data": "x" * 300, "size": 10},
     r"QR code of 69×69 modules needs at least 17\.3 mm"),
    ({"type": "qr", "x": 45, "y": 2, "data": "x", "size": 20}, "right edge"),
])
def test_elements_past_the_label_edge_are_errors(element: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as e:
        layout(parse_label(doc(element)), 203)
    assert e.value.field == "document.elements[0]"


def test_label_wider_than_the_printer_or_for_another_dpi() -> None:
    wide = parse_label({"width": 110, "height": 40, "elements": []})
    with pytest.raises(InvalidInput, match=r"at most 104\.1 mm") as e:
        layout(wide, 203, max_width=832)
    assert e.value.field == "document.width"
    with pytest.raises(InvalidInput, match="made for 300 dpi") as e:
        layout(parse_label(doc(dpi=300)), 203)
    assert e.value.field == "document.dpi"


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_line_boxes_stay_inside_the_block(rotation: int) -> None:
    d = parse_label(doc({"type": "text", "x": 10, "y": 5, "text": "第一行\n第二行长", "lines": 2,
                         "width": 20, "rotation": rotation, "align": "right"}))
    p = layout(d, 203).items[0]
    assert isinstance(p, TextPlan)
    block_w, block_h = (p.box_w, 2 * p.h) if rotation in (0, 180) else (2 * p.h, p.box_w)
    boxes = line_boxes(p, p.cw, p.h)
    for _, x, y, w, h in boxes:
        assert p.x <= x and x + w <= p.x + block_w and p.y <= y and y + h <= p.y + block_h
    # Right-aligned: each line ends where the box ends, along the reading direction.
    ends = {0: [x + w for _, x, _, w, _ in boxes], 90: [y + h for _, _, y, _, h in boxes],
            180: [x for _, x, _, _, _ in boxes], 270: [y for _, _, y, _, _ in boxes]}[rotation]
    assert len(set(ends)) == 1
