"""Label templates: flow card (工艺流转卡), price label (价签), shipping label (发货标签).

Each takes a JSON data object and returns a LabelDocument; InvalidInput names `data.<field>`,
also when a value is too long for its place on the label (checked at 203 and 300 dpi). Text sizes
are 3 and 6 mm: 24 and 48 dots at 203 dpi, the resident Chinese font's own sizes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from drivers import InvalidInput
from drivers.escpos.document import ean_check_digit
from drivers.label.document import DPIS, LabelDocument, parse_label
from drivers.label.flowcard import TASK, encode_flow_card
from drivers.label.layout import cell_width, dots, layout, text_cols
from drivers.label.symbols import barcode_pattern

__all__ = ["TEMPLATES", "build_template", "flow_card", "mask_phone", "price_label",
           "shipping_label", "yuan"]

MODULE_MM = 0.25


class _Label:
    """Elements with the data field each one shows, so a misfit is reported against the field."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.elements: list[dict[str, Any]] = []
        self.sources: list[str] = []

    def add(self, source: str, **element: Any) -> None:
        self.elements.append(element)
        self.sources.append(source)

    def text(self, source: str, x: float, y: float, text: str, size: float = 3.0,
             **more: Any) -> None:
        self.add(source, type="text", x=x, y=y, text=text, size=size, **more)

    def build(self, copies: int = 1) -> LabelDocument:
        raw = {"width": self.width, "height": self.height, "copies": copies,
               "elements": self.elements}
        try:
            doc = parse_label(raw)
            for dpi in DPIS:
                layout(doc, dpi)
        except InvalidInput as e:
            m = re.match(r"document\.elements\[(\d+)\]", e.field)
            if m is None:
                raise
            source = self.sources[int(m.group(1))]
            raise InvalidInput(f"data.{source}",
                               f"too long for the {self.width:g}×{self.height:g} mm label: "
                               f"{e.reason}") from None
        return doc


# -- data validation -----------------------------------------------------------------------


def _obj(data: object) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        raise InvalidInput("data", "must be an object")
    return data


def _only(d: Mapping[str, object], allowed: set[str]) -> None:
    for key in d:
        if key not in allowed:
            raise InvalidInput(f"data.{key}", "unknown field")


def _str(d: Mapping[str, object], key: str, max_len: int = 60,
         default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise InvalidInput(f"data.{key}", "must be a string" if key in d else "is required")
    v = v.strip()
    if not v and default is None:
        raise InvalidInput(f"data.{key}", "must not be empty")
    if len(v) > max_len:
        raise InvalidInput(f"data.{key}", f"longer than {max_len} characters")
    if any(not c.isprintable() for c in v):
        raise InvalidInput(f"data.{key}", "contains a control character")
    return v


def _int(d: Mapping[str, object], key: str, lo: int, hi: int, default: int | None = None) -> int:
    v = d.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InvalidInput(f"data.{key}", "must be an integer" if key in d else "is required")
    if not lo <= v <= hi:
        raise InvalidInput(f"data.{key}", f"must be {lo}-{hi}")
    return v


def _fraction(d: Mapping[str, object], key: str) -> tuple[int, int]:
    text = _str(d, key, 9)
    m = re.fullmatch(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})", text)
    if m is None:
        raise InvalidInput(f"data.{key}", f"must be n/N like 3/12, got {text!r}")
    n, of = int(m.group(1)), int(m.group(2))
    if n > of:
        raise InvalidInput(f"data.{key}", f"{n} is beyond the total {of}")
    return n, of


def _date(d: Mapping[str, object], key: str, required: bool) -> str:
    if key not in d and not required:
        return ""
    text = _str(d, key, 10)
    try:
        if len(text) != 10:
            raise ValueError(text)
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidInput(f"data.{key}", f"must be a date YYYY-MM-DD, got {text!r}") from None


def _size(d: Mapping[str, object], choices: tuple[str, ...]) -> tuple[float, float]:
    v = d.get("size", choices[0])
    if v not in choices:
        raise InvalidInput("data.size", f"must be one of {', '.join(choices)}")
    w, h = str(v).split("x")
    return float(w), float(h)


def yuan(fen: int) -> str:
    """Fen as a price: 850 → '￥8.50' (full-width yen sign, as Chinese printer fonts carry)."""
    return f"￥{fen // 100}.{fen % 100:02d}"


def mask_phone(phone: str) -> str:
    """Hide the middle digits: keep the first 3 and last 4 (fewer when the number is short).

    A leading country code (`+86 `) is kept and not counted.
    """
    m = re.match(r"(\+\d{1,3}[ \-])?(.*)", phone)
    prefix, number = (m.group(1) or "", m.group(2)) if m else ("", phone)
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    keep_head, keep_tail = (3, 4) if len(digits) >= 9 else (2, 2) if len(digits) >= 6 else (1, 1)
    hidden = set(digits[keep_head:len(digits) - keep_tail])
    return prefix + "".join("*" if i in hidden else c for i, c in enumerate(number))


def _centre(width: float, symbology: str, data: str) -> float:
    return round((width - len(barcode_pattern(symbology, data)) * MODULE_MM * 1.02) / 2, 1)


# -- flow card -----------------------------------------------------------------------------


def _route(d: Mapping[str, object]) -> list[tuple[int | None, str]]:
    """(step number or None, name) of each step; a step is a name or {"step": 10, "name": …}."""
    raw = d.get("route")
    if not isinstance(raw, list) or not raw:
        raise InvalidInput("data.route", "must be a non-empty list of steps")
    if len(raw) > 30:
        raise InvalidInput("data.route", "more than 30 steps")
    steps: list[tuple[int | None, str]] = []
    for i, s in enumerate(raw):
        step = {"name": s} if isinstance(s, str) else s
        if not isinstance(step, Mapping) or not set(step) <= {"step", "name", "rate_fen"}:
            raise InvalidInput(f"data.route[{i}]", "must be a step name or {step, name}")
        name = step.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 12 \
                or not name.isprintable():
            raise InvalidInput(f"data.route[{i}].name", "must be a name of 1-12 characters")
        number = step.get("step")
        if number is not None and (isinstance(number, bool) or not isinstance(number, int)
                                   or not 0 <= number <= 9999):
            raise InvalidInput(f"data.route[{i}].step", "must be an integer 0-9999")
        steps.append((number, name.strip()))
    return steps


def _columns(width_mm: float, size_mm: float = 3.0) -> int:
    """Text columns of `size_mm` that fit in `width_mm` at every supported dpi."""
    return min(dots(width_mm, dpi) // cell_width(size_mm, dpi) for dpi in DPIS)


def _arrows(names: list[str], max_cols: int) -> str:
    """Step names joined by arrows, broken into lines only after an arrow."""
    lines = [""]
    for i, name in enumerate(names):
        piece = name + ("→" if i < len(names) - 1 else "")
        if lines[-1] and text_cols(lines[-1] + piece) > max_cols:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)


def flow_card(data: object) -> LabelDocument:
    """工艺流转卡: task, split n/N, product, quantity, route, date and the scanners' QR code."""
    d = _obj(data)
    _only(d, {"task_no", "split", "product_code", "product_name", "qty", "unit", "route",
              "date", "size", "copies", "reprint"})
    reprint = d.get("reprint", False)
    if not isinstance(reprint, bool):
        raise InvalidInput("data.reprint", "must be true or false")
    task = _str(d, "task_no", 32)
    if not TASK.fullmatch(task):
        raise InvalidInput("data.task_no", "must be 1-32 of 0-9, A-Z, '.', '-' (the QR code "
                                           "carries it)")
    n, of = _fraction(d, "split")
    qty = _int(d, "qty", 1, 9_999_999)
    unit = _str(d, "unit", 4, "件")
    code, name = _str(d, "product_code", 24), _str(d, "product_name", 40)
    steps = _route(d)
    date = _date(d, "date", True)
    width, height = _size(d, ("60x40", "100x70"))
    qr = encode_flow_card(task, n, of, qty, path="data")
    lb = _Label(width, height)
    lb.add("size", type="box", x=0.5, y=0.5, width=width - 1, height=height - 1, thickness=0.3)
    if width == 60:
        lb.text("size", 2, 1.5, "工艺流转卡", bold=True)
        lb.text("split", 20, 1.5, f"{n}/{of}", bold=True, width=20)
        lb.add("task_no", type="qr", x=41, y=1.5, data=qr, size=17.5)
        lb.text("task_no", 2, 6, f"任务 {task}", width=38.5)
        lb.text("product_code", 2, 10.5, f"品号 {code}", width=38.5)
        lb.text("qty", 2, 15, f"数量 {qty} {unit}", bold=True, width=26 if reprint else 38.5)
        if reprint:
            lb.text("reprint", 29, 15, "补打", bold=True, width=11)
        lb.text("product_name", 2, 19.5, f"品名 {name}", width=56)
        route = _arrows([name for _, name in steps], _columns(49.5))
        lb.text("route", 2, 24, "工序", width=6.5)
        lb.text("route", 8.5, 24, route, width=49.5, lines=2)
        lb.text("date", 2, 31.5, f"日期 {date}", width=56)
        return lb.build(_int(d, "copies", 1, 99, 1))
    lb.text("size", 3, 3, "工艺流转卡", size=6, bold=True)
    lb.text("split", 40, 3, f"{n}/{of}", size=6, bold=True, width=28)
    lb.add("task_no", type="qr", x=71, y=3, data=qr, size=26)
    lb.text("task_no", 3, 11, f"任务号 {task}", width=66)
    lb.text("product_code", 3, 15.5, f"品号 {code}", width=66)
    lb.text("product_name", 3, 20, f"品名 {name}", width=66)
    lb.text("qty", 3, 24.5, f"数量 {qty} {unit}", size=6, bold=True, width=50 if reprint else 66)
    if reprint:
        lb.text("reprint", 54, 24.5, "补打", size=6, bold=True, width=15)
    lb.text("date", 71, 30.5, date, width=26)
    if len(steps) > 6:
        raise InvalidInput("data.route", f"{len(steps)} steps: the 100×70 card has rows for 6")
    top, pitch, cols = 35.5, 4.5, (3, 36, 56, 76, 97)
    for i, head in enumerate(("工序", "合格数", "报废数", "操作员")):
        lb.text("route", cols[i] + 1, top + 0.7, head, width=cols[i + 1] - cols[i] - 2)
    for i, (number, name) in enumerate(steps):
        lb.text(f"route[{i}]", cols[0] + 1, top + pitch * (i + 1) + 0.7,
                name if number is None else f"{number} {name}", width=cols[1] - cols[0] - 2)
    bottom = top + pitch * (len(steps) + 1)
    for r in range(len(steps) + 2):
        lb.add("route", type="line", x=cols[0], y=top + pitch * r, x2=cols[-1], y2=top + pitch * r)
    for c in cols:
        lb.add("route", type="line", x=c, y=top, x2=c, y2=bottom)
    return lb.build(_int(d, "copies", 1, 99, 1))


# -- price label ---------------------------------------------------------------------------


def _barcode(d: Mapping[str, object]) -> tuple[str, str]:
    code = _str(d, "barcode", 40)
    sym = d.get("symbology", "EAN13" if code.isdigit() and len(code) in (12, 13) else "CODE128")
    if sym not in ("EAN13", "CODE128"):
        raise InvalidInput("data.symbology", "must be EAN13 or CODE128")
    if sym == "EAN13":
        if not (code.isascii() and code.isdigit()) or len(code) not in (12, 13):
            raise InvalidInput("data.barcode", "EAN13 needs 12 or 13 digits")
        check = ean_check_digit(code[:12])
        if len(code) == 13 and int(code[12]) != check:
            raise InvalidInput("data.barcode", f"EAN-13 check digit is wrong (expected {check}): "
                                               "a scanner would read another number; correct "
                                               "it or set data.symbology to CODE128")
    elif not all(32 <= ord(c) < 127 for c in code):
        raise InvalidInput("data.barcode", "CODE128 takes printable ASCII")
    return str(sym), code


def price_label(data: object) -> LabelDocument:
    """价签 60×40 mm: name, spec, price per unit, member price and the product barcode."""
    d = _obj(data)
    _only(d, {"name", "spec", "unit", "price", "member_price", "barcode", "symbology", "sku",
              "copies"})
    name, unit = _str(d, "name", 40), _str(d, "unit", 4)
    spec = _str(d, "spec", 40, "")
    price = _int(d, "price", 0, 99_999_999)
    member = None if d.get("member_price") is None else _int(d, "member_price", 0, 99_999_999)
    sym, code = _barcode(d)
    sku = _str(d, "sku", 24, "")
    lb = _Label(60, 40)
    lb.text("name", 2, 1.5, name, bold=True, width=56, lines=2)
    if spec:
        lb.text("spec", 2, 8, f"规格 {spec}", width=56)
    price_text = yuan(price)
    lb.text("price", 2, 12.5, price_text, size=6, bold=True, width=34)
    cols = text_cols(price_text)
    lb.text("unit", 2 + cols * 3.05 + 1, 15.5, f"/{unit}", width=max(34 - cols * 3.05 - 1, 1))
    if member is not None:
        lb.text("member_price", 38, 12.5, "会员价", width=20)
        lb.text("member_price", 38, 16, yuan(member), bold=True, width=20)
    lb.add("barcode", type="barcode", x=_centre(60, sym, code), y=21, symbology=sym, data=code,
           height=10, module=MODULE_MM)
    if sku:
        lb.text("sku", 2, 35.5, sku, width=56)
    return lb.build(_int(d, "copies", 1, 999, 1))


# -- shipping label ------------------------------------------------------------------------


def shipping_label(data: object) -> LabelDocument:
    """发货标签 100×70 mm: order no., customer, address, masked phone, parcel n/N, barcode."""
    d = _obj(data)
    _only(d, {"order_no", "customer", "customer_id", "address", "phone", "parcel", "route",
              "date", "copies"})
    order = _str(d, "order_no", 32)
    if not all(32 <= ord(c) < 127 for c in order):
        raise InvalidInput("data.order_no", "must be printable ASCII (it is printed as CODE128)")
    customer, address = _str(d, "customer", 40), _str(d, "address", 80)
    customer_id = _str(d, "customer_id", 16, "")
    phone = _str(d, "phone", 20)
    if not re.fullmatch(r"\+?[0-9][0-9 \-]{5,18}", phone):
        raise InvalidInput("data.phone", "must be a phone number (digits, spaces, '-')")
    n, of = _fraction(d, "parcel")
    route = _str(d, "route", 20, "")
    date = _date(d, "date", False)
    lb = _Label(100, 70)
    lb.add("order_no", type="box", x=0.5, y=0.5, width=99, height=69, thickness=0.3)
    lb.text("order_no", 3, 3, f"订单 {order}", width=72)
    lb.text("parcel", 78, 2, f"{n}/{of}", size=6, bold=True, width=20)
    if route:
        lb.text("route", 3, 8, f"线路 {route}", width=72)
    lb.add("order_no", type="line", x=0.5, y=13, x2=99.5, y2=13, thickness=0.4)
    lb.text("customer", 3, 15, customer, size=6, bold=True, width=94)
    if customer_id:
        lb.text("customer_id", 3, 22, f"客户编号 {customer_id}", width=94)
    lb.text("address", 3, 26.5, f"地址 {address}", width=94, lines=2)
    lb.text("phone", 3, 33.5, f"电话 {mask_phone(phone)}", width=94)
    lb.add("order_no", type="line", x=0.5, y=38, x2=99.5, y2=38, thickness=0.4)
    lb.add("order_no", type="barcode", x=_centre(100, "CODE128", order), y=41,
           symbology="CODE128", data=order, height=15, module=MODULE_MM)
    if date:
        lb.text("date", 3, 63.5, f"发货日期 {date}", width=60)
    return lb.build(_int(d, "copies", 1, 99, 1))


TEMPLATES: Mapping[str, Callable[[object], LabelDocument]] = {
    "flow_card": flow_card, "price_label": price_label, "shipping_label": shipping_label}


def build_template(name: str, data: object) -> LabelDocument:
    """The document of template `name` filled with `data`."""
    if name not in TEMPLATES:
        raise InvalidInput("template", f"unknown template {name!r} "
                                       f"(one of {', '.join(TEMPLATES)})")
    return TEMPLATES[name](data)
