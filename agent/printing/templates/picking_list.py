"""The `picking_list` template (拣货单): items summed over orders, in warehouse walking order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from agent.printing.templates import fields as f
from agent.printing.templates.blocks import center, kv, rule
from drivers import InvalidInput
from drivers.escpos.document import Block, Cell, Columns, Cut, Document, Feed, Text
from drivers.profiles import PrinterProfile


@dataclass
class _Item:
    sku: str
    name: str
    spec: str
    unit: str
    location: str
    qty: int


def summed_items(data: Mapping[str, object]) -> list[_Item]:
    """Order lines summed per SKU, sorted by warehouse location and then SKU."""
    by_sku: dict[str, _Item] = {}
    for i, raw in enumerate(f.items(data, "orders", "data", max_items=200)):
        op = f"data.orders[{i}]"
        o = f.obj(raw, op)
        f.text(o, "order_no", op, max_len=40)
        for j, line in enumerate(f.items(o, "lines", op)):
            p = f"{op}.lines[{j}]"
            ln = f.obj(line, p)
            sku = f.text(ln, "sku", p, max_len=40)
            item = _Item(sku, f.text(ln, "name", p), f.text(ln, "spec", p, "", max_len=60),
                         f.text(ln, "unit", p, "", max_len=8),
                         f.text(ln, "location", p, "", max_len=20),
                         f.integer(ln, "qty", p, lo=1, hi=1_000_000))
            have = by_sku.get(sku)
            if have is None:
                by_sku[sku] = item
                continue
            if (have.name, have.unit, have.location) != (item.name, item.unit, item.location):
                raise InvalidInput(p, f"SKU {sku} differs from an earlier line "
                                      "(name, unit or location)")
            have.qty += item.qty
    # An empty location sorts last: the picker finds those by asking.
    return sorted(by_sku.values(), key=lambda it: (it.location == "", it.location, it.sku))


def build(data: Mapping[str, object], profile: PrinterProfile) -> Document:
    """Validate picking-list data and lay it out for `profile` with a checkbox per item."""
    data = f.obj(data, "data")
    cols = profile.columns
    sp = f.obj(data.get("salesperson"), "data.salesperson")
    when = f.timestamp(data, "time", "data")
    items = summed_items(data)
    b: list[Block] = [center("拣 货 单", bold=True, size=2), Feed(1),
                      kv(cols, f"业务员: {f.text(sp, 'name', 'data.salesperson', max_len=20)}",
                         when.strftime("%Y-%m-%d %H:%M")),
                      Text(f"线路: {f.text(data, 'route', 'data', max_len=40)}")]
    if data.get("warehouse") is not None:
        b.append(Text(f"仓库: {f.text(data, 'warehouse', 'data', max_len=40)}"))
    b.append(rule())
    loc_w, qty_w = (10, 9) if cols >= 42 else (8, 7)
    b.append(Columns((Cell("", 3), Cell("库位", loc_w), Cell("品名/规格", None),
                      Cell("数量", qty_w, "right")), bold=True))
    b.append(rule())
    for it in items:
        label = f"{it.name} {it.spec}".strip() + f" [{it.sku}]"
        b.append(Columns((Cell("□", 3), Cell(it.location or "-", loc_w), Cell(label, None),
                          Cell(f"{it.qty}{it.unit}", qty_w, "right"))))
    b.append(rule())
    b.append(kv(cols, f"品项: {len(items)}", f"总数量: {sum(it.qty for it in items)}"))
    b.append(Text("订单:"))
    for i, raw in enumerate(f.items(data, "orders", "data")):
        o = f.obj(raw, f"data.orders[{i}]")
        cust = o.get("customer")
        who = ""
        if cust is not None:
            c = f.obj(cust, f"data.orders[{i}].customer")
            who = (f" {f.text(c, 'name', f'data.orders[{i}].customer')}"
                   f"({f.text(c, 'id', f'data.orders[{i}].customer', max_len=32)})")
        b.append(Text(f"  {f.text(o, 'order_no', f'data.orders[{i}]', max_len=40)}{who}"))
    b += [rule(), Text("拣货人: ________  复核: ________"), Feed(1), Cut()]
    return Document(tuple(b))
