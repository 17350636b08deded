"""What the phone page prints: a picking list (拣货单) or sales slip (销售单) of one customer
order or of lines typed on the phone, as the box's `picking_list` / `sales_slip` template data
(docs/print-jobs.md). Pure: the order, customer, names and `now` come in, a job goes out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, UnsetType

from hq.orders import OrderError
from hq.orders.model import MAX_FEN, MAX_LINES, MAX_QTY, Code, Name, convert_body
from validation import Schema

DOCUMENTS = {"picking_list": "拣货单", "sales_slip": "销售单"}
CHINA = timezone(timedelta(hours=8))
"""Printed times are China Standard Time (the stores' local time)."""
WALK_IN = {"id": "-", "name": "散客"}
"""The customer of typed lines when none is picked."""
NO_ROUTE = "现场开单"
"""The route printed for typed lines and orders without one."""


class PhoneLine(Schema, frozen=True, kw_only=True):
    """A line typed on the phone: SKU, name, quantity, price in fen (unit optional)."""

    sku: Code
    name: Name
    qty: Annotated[int, Meta(ge=1, le=MAX_QTY)]
    unit_price: Annotated[int, Meta(ge=0, le=MAX_FEN)]
    unit: Annotated[str, Meta(min_length=1, max_length=8)] | UnsetType = UNSET


class PhoneJob(Schema, frozen=True, kw_only=True):
    """POST /v1/m/print-jobs: what to print (one order, or typed lines) on which printer."""

    box: Code
    printer: Annotated[str, Meta(min_length=1, max_length=64)]
    document: Literal["picking_list", "sales_slip"]
    order_no: Code | UnsetType = UNSET
    lines: Annotated[list[PhoneLine], Meta(min_length=1, max_length=MAX_LINES)] | UnsetType = \
        UNSET
    customer: Code | UnsetType = UNSET


class ReprintRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/print-jobs/{id}/reprint: why the job is printed again (补打原因)."""

    reason: Annotated[str, Meta(min_length=1, max_length=200)]


def parse_phone_job(body: object) -> PhoneJob:
    """The request validated: exactly one of `order_no` or `lines`."""
    req = convert_body(body, PhoneJob)
    if (req.order_no is UNSET) == (req.lines is UNSET):
        raise OrderError("order_no", "give either order_no (a customer order) or lines "
                                     "(typed on the phone), not both")
    if req.lines is not UNSET and req.customer is UNSET and req.document == "sales_slip":
        raise OrderError("customer", "a sales slip of typed lines needs the customer's id")
    return req


def parse_reason(body: object) -> str:
    """The reprint reason, stripped; at least two characters that are not blank."""
    reason = convert_body(body, ReprintRequest).reason.strip()
    if len(reason) < 2:
        raise OrderError("reason", "补打原因 is required: say why the job is printed again "
                                   "(at least 2 characters)")
    return reason


def typed_order(lines: list[PhoneLine], customer: str | None, salesperson: str,
                order_no: str) -> dict[str, Any]:
    """Typed lines as an order body (amount = qty × unit_price)."""
    out: list[dict[str, Any]] = []
    for line in lines:
        item: dict[str, Any] = {"sku": line.sku, "name": line.name, "qty": line.qty,
                                "unit_price": line.unit_price,
                                "amount": line.qty * line.unit_price}
        if line.unit is not UNSET:
            item["unit"] = line.unit
        out.append(item)
    return {"order_no": order_no, "customer": customer or WALK_IN["id"],
            "salesperson": salesperson, "lines": out}


def printed_time(now_ms: int) -> str:
    """`now` as the ISO 8601 time printed on the document (China Standard Time)."""
    return datetime.fromtimestamp(now_ms / 1000, CHINA).isoformat(timespec="seconds")


def _customer(customer: Mapping[str, Any] | None) -> dict[str, Any]:
    if customer is None:
        return dict(WALK_IN)
    out = {"id": customer["id"], "name": customer["name"]}
    if customer.get("phone"):
        out["phone"] = customer["phone"]
    return out


def template_data(document: str, order: Mapping[str, Any], customer: Mapping[str, Any] | None,
                  salesperson: Mapping[str, str], place: str, now_ms: int) -> dict[str, Any]:
    """The template data of `document` for one order: the customer by id and name, the
    salesperson, `place` (the warehouse or store printing it), the time printed."""
    route = str(order.get("route") or NO_ROUTE)
    when = printed_time(now_ms)
    lines: list[Mapping[str, Any]] = order["lines"]
    if document == "picking_list":
        picked = [{k: line[k] for k in ("sku", "name", "spec", "unit", "location", "qty")
                   if k in line} for line in lines]
        return {"salesperson": dict(salesperson), "route": route, "warehouse": place,
                "time": when, "orders": [{"order_no": order["order_no"],
                                          "customer": _customer(customer), "lines": picked}]}
    address = order.get("delivery_address") or (customer or {}).get("address") or "自提"
    sold = [{k: line[k] for k in ("sku", "name", "spec", "unit", "qty", "unit_price", "amount")
             if k in line} for line in lines]
    data: dict[str, Any] = {"company": place, "order_no": order["order_no"], "time": when,
                            "customer": _customer(customer), "delivery_address": address,
                            "salesperson": dict(salesperson), "route": route, "lines": sold,
                            "total": sum(int(line["amount"]) for line in lines)}
    if order.get("note"):
        data["note"] = order["note"]
    return data


def print_job(job_id: str, printer: str, document: str, data: Mapping[str, Any]
              ) -> dict[str, Any]:
    """The job envelope of docs/print-jobs.md."""
    return {"id": job_id, "printer": printer, "template": document, "data": dict(data)}
