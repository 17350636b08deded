"""The `sales_slip` template (销售单): a delivery slip for a customer, with a signature line."""

from __future__ import annotations

from collections.abc import Mapping

from agent.printing.templates import fields as f
from agent.printing.templates.blocks import amount_row, center, code128, kv, rule
from drivers import InvalidInput
from drivers.escpos.document import Block, Cell, Columns, Cut, Document, Feed, Text
from drivers.profiles import PrinterProfile


def build(data: Mapping[str, object], profile: PrinterProfile) -> Document:
    """Validate sales-slip data (amounts in fen, must add up) and lay it out for `profile`."""
    data = f.obj(data, "data")
    cols = profile.columns
    wide = cols >= 42
    cust = f.obj(data.get("customer"), "data.customer")
    sp = f.obj(data.get("salesperson"), "data.salesperson")
    order_no = f.text(data, "order_no", "data", max_len=40)
    when = f.timestamp(data, "time", "data")
    b: list[Block] = [center(f.text(data, "company", "data", "销售单"), bold=True),
                      center("销 售 单", bold=True, size=2), Feed(1),
                      kv(cols, f"单号: {order_no}", when.strftime("%Y-%m-%d %H:%M")),
                      Text(f"客户: {f.text(cust, 'name', 'data.customer')}"
                           f" ({f.text(cust, 'id', 'data.customer', max_len=32)})")]
    if cust.get("phone") is not None:
        b.append(Text(f"电话: {f.text(cust, 'phone', 'data.customer', max_len=32)}"))
    b.append(Text(f"送货地址: {f.text(data, 'delivery_address', 'data')}"))
    b.append(kv(cols, f"业务员: {f.text(sp, 'name', 'data.salesperson', max_len=20)}",
                f"线路: {f.text(data, 'route', 'data', '', max_len=40)}"))
    b.append(rule())
    num_w = (8, 9, 11) if wide else (8, 10, 14)
    name_w = cols - sum(num_w) if wide else None
    header = (Cell("数量", num_w[0], "right"), Cell("单价", num_w[1], "right"),
              Cell("金额", num_w[2], "right"))
    b += [Columns((Cell("品名/规格", name_w), *header))] if wide else [Text("品名/规格"),
                                                                     Columns(header)]
    b.append(rule())
    total = 0
    qty_total = 0
    for i, raw in enumerate(f.items(data, "lines", "data")):
        p = f"data.lines[{i}]"
        o = f.obj(raw, p)
        name = f.text(o, "name", p)
        spec = f.text(o, "spec", p, "", max_len=60)
        qty = f.integer(o, "qty", p, lo=1, hi=1_000_000)
        unit = f.text(o, "unit", p, "", max_len=8)
        price = f.integer(o, "unit_price", p)
        amount = f.integer(o, "amount", p, qty * price)
        if amount != qty * price:
            raise InvalidInput(f"{p}.amount", f"must be qty × unit_price = {qty * price}")
        total += amount
        qty_total += qty
        label = f"{name} {spec}".strip()
        nums = (Cell(f"{qty}{unit}", num_w[0], "right"), Cell(f.yuan(price), num_w[1], "right"),
                Cell(f.yuan(amount), num_w[2], "right"))
        b += [Columns((Cell(label, name_w), *nums))] if wide else [Text(label), Columns(nums)]
    if f.integer(data, "total", "data", total) != total:
        raise InvalidInput("data.total", f"must equal the sum of line amounts = {total}")
    b += [rule(), amount_row(cols, "合计数量", str(qty_total)),
          amount_row(cols, "合计金额", f"¥{f.yuan(total)}", bold=True),
          Text(f"大写: {f.yuan_upper(total)}")]
    note = data.get("note")
    if note is not None:
        b.append(Text(f"备注: {f.text(data, 'note', 'data')}"))
    b += [rule(), Feed(1), Text("客户签收: ____________"), Feed(1),
          Text("日期: ______年____月____日"), Feed(1),
          code128(order_no, profile.paper_dots) or Feed(1), Feed(1), Cut()]
    return Document(tuple(b))
