"""The Z report (日结单 / Z报表) of a day close: figures from the day's records, and its document.

Pure: the records in, a ZReport and a receipt-printer document (the JSON of
drivers.escpos.document) out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.printing.templates.fields import PAYMENT_METHODS, yuan
from drivers.escpos.textcodec import text_columns
from sync.journal.schema import METHODS

TYPE_NAMES = {"sale": "销售", "refund": "退款", "void": "作废", "payment": "收款",
              "handover": "交接", "approval": "审批", "audit": "审计", "device_fault": "设备故障",
              "clock_set": "校时", "cosign": "总部会签", "key_rotate": "换密钥"}
NO_CLERK = "-"


@dataclass
class MethodRow:
    """Money by one payment method in the period: received (sales, payments) and paid back."""

    method: str
    count_in: int = 0
    amount_in: int = 0
    count_out: int = 0
    amount_out: int = 0

    @property
    def net(self) -> int:
        """Received minus paid back (equals the period's `methods` entry)."""
        return self.amount_in - self.amount_out


@dataclass
class ClerkRow:
    """One clerk's sales, refunds and voids in the period."""

    clerk: str
    sales: int = 0
    sales_amount: int = 0
    refunds: int = 0
    refund_amount: int = 0
    voids: int = 0
    void_amount: int = 0

    @property
    def net(self) -> int:
        """Sales minus refunds and voids."""
        return self.sales_amount - self.refund_amount - self.void_amount


@dataclass(frozen=True)
class ZReport:
    """What a Z report shows; `period` and `totals` are the day close's and the perpetual ones."""

    day: str
    z: int
    seq: int
    time: int
    from_seq: int
    to_seq: int
    period: Mapping[str, Any]
    totals: Mapping[str, Any]
    methods: tuple[MethodRow, ...]
    clerks: tuple[ClerkRow, ...]
    checkpoint: str
    code: str
    cash_counted: int | None = None
    closed_by: str | None = None


def summarize(close: Mapping[str, Any], records: Iterable[Mapping[str, Any]], checkpoint: str,
              code: str) -> ZReport:
    """The Z report of day-close record `close` from the records it covers (from_seq…to_seq)."""
    body = close["body"]
    methods: dict[str, MethodRow] = {}
    clerks: dict[str, ClerkRow] = {}
    for r in records:
        type_, b = r["type"], r["body"]
        if type_ in ("sale", "refund", "void"):
            row = clerks.setdefault(b.get("cashier", NO_CLERK), ClerkRow(b.get("cashier",
                                                                                 NO_CLERK)))
            if type_ == "sale":
                row.sales += 1
                row.sales_amount += b["total"]
            elif type_ == "refund":
                row.refunds += 1
                row.refund_amount += b["total"]
            else:
                row.voids += 1
                row.void_amount += b["total"]
            for p in b["payments"]:
                m = methods.setdefault(p["method"], MethodRow(p["method"]))
                if type_ == "sale":
                    m.count_in += 1
                    m.amount_in += p["amount"]
                else:
                    m.count_out += 1
                    m.amount_out += p["amount"]
        elif type_ == "payment":
            m = methods.setdefault(b["method"], MethodRow(b["method"]))
            m.count_in += 1
            m.amount_in += b["amount"]
    order = {m: i for i, m in enumerate(METHODS)}
    return ZReport(body["day"], body["z"], close["seq"], close["time"], body["from_seq"],
                   body["to_seq"], body["period"], close["totals"],
                   tuple(sorted(methods.values(), key=lambda m: order.get(m.method, 99))),
                   tuple(sorted(clerks.values(), key=lambda c: c.clerk)), checkpoint, code,
                   body.get("cash_counted"), body.get("cashier"))


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **style}


def _kv(left: str, right: str, columns: int, *, bold: bool = False) -> dict[str, Any]:
    width = min(max(text_columns(right), 1), columns // 2)
    block: dict[str, Any] = {"type": "columns", "cells": [
        {"text": left}, {"text": right, "width": width, "align": "right"}]}
    if bold:
        block["bold"] = True
    return block


def _method_name(method: str) -> str:
    return PAYMENT_METHODS.get(method, method)


def document(z: ZReport, *, store: str, columns: int) -> dict[str, Any]:
    """The Z report as a receipt-printer document (JSON form) for paper `columns` wide."""
    size = 2 if text_columns(store) * 2 <= columns else 1
    when = datetime.fromtimestamp(z.time / 1000).astimezone().strftime("%Y-%m-%d %H:%M")
    b: list[dict[str, Any]] = [
        _text(store, align="center", bold=True, width=size, height=size),
        _text("日结单 / Z报表", align="center", bold=True),
        {"type": "feed", "lines": 1},
        _kv(f"营业日: {z.day}", f"Z{z.z}", columns),
        _kv(f"记录: {z.from_seq}-{z.to_seq}", f"日结记录 {z.seq}", columns),
        _text(f"日结时间: {when}"),
    ]
    if z.closed_by:
        b.append(_text(f"日结人: {z.closed_by}"))
    b += [{"type": "rule"}, _text("按支付方式", bold=True)]
    for m in z.methods:
        b.append(_kv(f"{_method_name(m.method)} 收{m.count_in}笔 退{m.count_out}笔",
                     yuan(m.net), columns))
        b.append(_text(f"  收入 {yuan(m.amount_in)}  退出 {yuan(m.amount_out)}"))
    if not z.methods:
        b.append(_text("(无)"))
    b += [{"type": "rule"}, _text("按收银员", bold=True)]
    for c in z.clerks:
        b.append(_kv(f"收银员 {c.clerk}", yuan(c.net), columns))
        b.append(_text(f"  销售{c.sales}笔 {yuan(c.sales_amount)}  退款{c.refunds}笔 "
                       f"{yuan(c.refund_amount)}  作废{c.voids}笔 {yuan(c.void_amount)}"))
    if not z.clerks:
        b.append(_text("(无)"))
    counts = z.period.get("counts", {})
    b += [{"type": "rule"}, _text("当日合计", bold=True)]
    for type_, name in TYPE_NAMES.items():
        if counts.get(type_):
            b.append(_kv(name, f"{counts[type_]}笔", columns))
    b.append(_kv("净额", yuan(z.period.get("net", 0)), columns, bold=True))
    b.append(_kv("总额(销售+退款+作废)", yuan(z.period.get("absolute", 0)), columns))
    if z.cash_counted is not None:
        expected = z.period.get("methods", {}).get("cash", 0)
        b.append(_kv("现金实点", yuan(z.cash_counted), columns))
        b.append(_kv("现金差额", yuan(z.cash_counted - expected), columns))
    b += [{"type": "rule"}, _text("累计总额", bold=True),
          _kv("累计净额", yuan(z.totals.get("net", 0)), columns),
          _kv("累计总额", yuan(z.totals.get("absolute", 0)), columns)]
    for method, amount in sorted(z.totals.get("methods", {}).items(),
                                 key=lambda kv: METHODS.index(kv[0])
                                 if kv[0] in METHODS else 99):
        b.append(_kv(f"累计{_method_name(method)}", yuan(amount), columns))
    b += [{"type": "rule"}, _text("检查点 (签名日志)", bold=True)]
    b += [_text(line) for line in z.checkpoint.splitlines() if line]
    b += [{"type": "feed", "lines": 1},
          {"type": "qr", "data": z.code, "size": 5 if columns >= 42 else 4},
          _text("扫码可离线验证本日结记录", align="center"),
          {"type": "cut"}]
    return {"blocks": b}
