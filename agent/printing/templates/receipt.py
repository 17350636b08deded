"""The `receipt` template (小票): a till receipt with lines, totals, payments, change and member."""

from __future__ import annotations

from collections.abc import Mapping

from agent.printing.templates import fields as f
from agent.printing.templates.blocks import amount_row, center, kv, rule, title
from agent.printing.templates.fields import PAYMENT_METHODS
from drivers import InvalidInput
from drivers.escpos.document import QR, Block, Cell, Columns, Cut, Document, Feed, Text
from drivers.profiles import PrinterProfile
from sync.journal.measure import measured_price


def _measure(o: Mapping[str, object], p: str, qty: int, price: int) -> str | None:
    """The 重量/长度 line of a measured item; its unit price must follow from the measure."""
    for key, per_key, label, unit in (("weight_g", "unit_price_per_kg", "重量", "kg"),
                                      ("length_mm", "unit_price_per_m", "长度", "m")):
        if o.get(key) is None and o.get(per_key) is None:
            continue
        measure = f.integer(o, key, p, lo=1, hi=10**9)
        per = f.integer(o, per_key, p)
        if qty != 1:
            raise InvalidInput(f"{p}.qty", "must be 1 on a measured line")
        want = measured_price(measure, per)
        if price != want:
            raise InvalidInput(f"{p}.unit_price", f"must be round-half-up({key} × {per_key} "
                                                  f"/ 1000) = {want}")
        return f"  {label} {measure // 1000}.{measure % 1000:03d}{unit} × ¥{f.yuan(per)}/{unit}"
    return None


def _lines(data: Mapping[str, object]) -> list[tuple[str, int, str, int, int, int, str | None]]:
    out = []
    for i, raw in enumerate(f.items(data, "lines", "data")):
        p = f"data.lines[{i}]"
        o = f.obj(raw, p)
        name = f.text(o, "name", p)
        qty = f.integer(o, "qty", p, lo=1, hi=1_000_000)
        unit = f.text(o, "unit", p, "", max_len=8)
        price = f.integer(o, "unit_price", p)
        discount = f.integer(o, "discount", p, 0)
        amount = f.integer(o, "amount", p, qty * price - discount)
        if amount != qty * price - discount:
            raise InvalidInput(f"{p}.amount", f"must be qty × unit_price − discount "
                                              f"= {qty * price - discount}")
        out.append((name, qty, unit, price, discount, amount, _measure(o, p, qty, price)))
    return out


def build(data: Mapping[str, object], profile: PrinterProfile) -> Document:
    """Validate receipt data (amounts in fen, must add up) and lay it out for `profile`."""
    data = f.obj(data, "data")
    store = f.obj(data.get("store"), "data.store")
    store_name = f.text(store, "name", "data.store")
    lines = _lines(data)
    total = sum(line[5] for line in lines)
    if f.integer(data, "total", "data", total) != total:
        raise InvalidInput("data.total", f"must equal the sum of line amounts = {total}")
    pays = []
    for i, raw in enumerate(f.items(data, "payments", "data")):
        p = f"data.payments[{i}]"
        o = f.obj(raw, p)
        method = f.text(o, "method", p)
        if method not in PAYMENT_METHODS:
            raise InvalidInput(f"{p}.method", f"must be one of {', '.join(PAYMENT_METHODS)}")
        pays.append((PAYMENT_METHODS[method], f.integer(o, "amount", p, lo=1)))
    paid = sum(a for _, a in pays)
    change = f.integer(data, "change", "data", paid - total)
    if paid - change != total:
        raise InvalidInput("data.change", f"payments − change must equal the total {f.yuan(total)}")
    if change and not any(m == "现金" for m, _ in pays):
        raise InvalidInput("data.change", "change is only given on cash payments")
    when = f.timestamp(data, "time", "data")
    cols = profile.columns

    b: list[Block] = [title(store_name, cols)]
    for key, label in (("address", "地址"), ("phone", "电话")):
        if store.get(key) is not None:
            b.append(center(f"{label}: {f.text(store, key, 'data.store')}"))
    b += [Feed(1),
          kv(cols, f"单号: {f.text(data, 'order_no', 'data', max_len=40)}",
             f"收银台: {f.text(data, 'till', 'data', max_len=16)}"),
          kv(cols, f"收银员: {f.text(data, 'cashier', 'data', max_len=20)}",
             when.strftime("%Y-%m-%d %H:%M")),
          rule()]
    wide = cols >= 42
    num_w = (6, 9, 10) if wide else (6, 12, 14)
    name_w = cols - sum(num_w) if wide else None
    header = [Cell("数量", num_w[0], "right"), Cell("单价", num_w[1], "right"),
              Cell("金额", num_w[2], "right")]
    if wide:
        b.append(Columns((Cell("商品", name_w), *header)))
    else:
        b += [Text("商品"), Columns(tuple(header))]
    b.append(rule())
    qty_total = 0
    discount_total = 0
    for name, qty, unit, price, discount, _amount, measured in lines:
        qty_total += qty
        discount_total += discount
        shown_qty = "1份" if measured else f"{qty}{unit}"
        nums = (Cell(shown_qty, num_w[0], "right"), Cell(f.yuan(price), num_w[1], "right"),
                Cell(f.yuan(qty * price), num_w[2], "right"))
        if wide:
            b.append(Columns((Cell(name, name_w), *nums)))
        else:
            b.append(Text(name))
            b.append(Columns(nums))
        if measured:
            b.append(Text(measured))
        if discount:
            b.append(amount_row(cols, "  优惠", f"-{f.yuan(discount)}"))
    b += [rule(), amount_row(cols, f"件数: {qty_total}", "")]
    if discount_total:
        b.append(amount_row(cols, "优惠合计", f"-{f.yuan(discount_total)}"))
    b.append(amount_row(cols, "应收", f"¥{f.yuan(total)}", bold=True))
    for name, amount in pays:
        b.append(amount_row(cols, name, f.yuan(amount)))
    if change:
        b.append(amount_row(cols, "找零", f.yuan(change)))
    member = data.get("member")
    if member is not None:
        m = f.obj(member, "data.member")
        b.append(rule())
        b.append(kv(cols, f"会员: {f.text(m, 'name', 'data.member', max_len=20)}",
                    f"卡号: {_mask(f.text(m, 'card', 'data.member', max_len=32))}"))
        extras = []
        if m.get("points") is not None:
            extras.append(f"积分: {f.integer(m, 'points', 'data.member')}")
        if m.get("balance") is not None:
            extras.append(f"储值余额: ¥{f.yuan(f.integer(m, 'balance', 'data.member'))}")
        if extras:
            b.append(Text("  ".join(extras)))
    b.append(rule())
    for i, line in enumerate(f.items(data, "footer", "data", required=False, max_items=10)):
        if not isinstance(line, str) or len(line) > 200:
            raise InvalidInput(f"data.footer[{i}]", "must be a string of at most 200 characters")
        b.append(center(line))
    qr = data.get("qr")
    if qr is not None:
        b += [Feed(1), QR(f.text(data, "qr", "data", max_len=500), size=6 if wide else 5)]
    b += [Feed(1), Cut()]
    return Document(tuple(b))


def _mask(card: str) -> str:
    return card if len(card) <= 4 else "*" * (len(card) - 4) + card[-4:]
