"""The writing requests: sale, refund, void and workshop handover (each at most once per key)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from agent.printing.templates.fields import yuan
from agent.sales.approvals import Approved
from agent.sales.receipts import parse_print, receipt_printer
from agent.sales.requests import (
    HANDOVER_FIELDS,
    HANDOVER_RENAMES,
    REFUND_FIELDS,
    SALE_FIELDS,
    VOID_FIELDS,
    check,
    check_refund_lines,
    handover_body,
    refund_body,
    request_object,
    sale_body,
    sold_left,
    void_body,
)
from agent.sales.service import Outcome, Prepared, SalesService, entry_seq
from drivers import InvalidInput
from sync.journal.record import Entry
from sync.journal.schema import POS_SEQ


async def sale(svc: SalesService, raw: object, key: str | None, request: str) -> Outcome:
    """POST /v1/sales: append the sale; then queue its receipt and kick the drawer if asked."""
    req = request_object(raw, SALE_FIELDS)
    pr = parse_print(req["print"], svc.config) if req.get("print") is not None else None
    open_drawer = req.get("open_drawer", False)
    if not isinstance(open_drawer, bool):
        raise InvalidInput("open_drawer", "must be true or false")
    drawer = None
    if open_drawer:
        drawer = pr.printer if pr else receipt_printer(svc.config, None, "open_drawer").id

    async def prepare() -> Prepared:
        body = sale_body(req, svc.order_no(), svc.journal.head.size)
        if open_drawer and not any(p["method"] == "cash" for p in body["payments"]):
            raise InvalidInput("open_drawer", "only a sale paid in cash opens the drawer by "
                                              "itself; otherwise a supervisor approves it")
        if pr is not None:
            svc.check_receipt(pr, body)
        return Prepared("sale", body, lambda: svc.append("sale", body))

    entry, created = await svc.run(key, request, (), prepare)
    extra: dict[str, Any] = {}
    if pr is not None:  # on a replay too: the job id is the sale's, so it never prints twice
        extra["print_job"] = await svc.print_receipt(pr, entry)
    if drawer is not None and created:
        extra["drawer"] = await svc.kick_drawer(drawer)
    return Outcome(entry, created, extra)


async def _sale_and_after(svc: SalesService, sale_seq: object
                          ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    sale_record = await svc.record(sale_seq, "sale_seq", "sale")
    earlier = await asyncio.to_thread(svc.reader.against_sale, sale_record["seq"])
    if any(r["type"] == "void" for r in earlier):
        raise InvalidInput("sale_seq", f"sale {sale_record['seq']} was voided")
    return sale_record, earlier


def _reversal(kind: str, svc: SalesService, approved: Approved | None, body: dict[str, Any],
              sale_record: Mapping[str, Any], what: str) -> Prepared:
    """A refund or void ready to commit: its approval record first (if one was needed or
    given), then the record itself, referencing the approval."""
    intent = dict(body)

    async def commit() -> Entry:
        if approved is not None:
            a = await svc.append_approval(
                approved, kind, f"{what} {yuan(body['total'])} 元: {body['reason']}",
                amount=body["total"], ref_seq=sale_record["seq"])
            body["approval_seq"] = entry_seq(a)
        return await svc.append(kind, body)

    return Prepared(kind, intent, commit)


async def refund(svc: SalesService, raw: object, key: str | None, request: str) -> Outcome:
    """POST /v1/refunds: never more than was sold (per sku and in money); approval above the
    configured amount, appended first and referenced by the refund."""
    req = request_object(raw, REFUND_FIELDS)
    sale_seq = req.get("sale_seq")
    check(POS_SEQ, sale_seq, "sale_seq")

    async def prepare() -> Prepared:
        sale_record, earlier = await _sale_and_after(svc, sale_seq)
        sold = sale_record["body"]
        body = refund_body(req, sold, svc.journal.head.size)
        refunds = [r["body"] for r in earlier if r["type"] == "refund"]
        check_refund_lines(body, sold_left(sold, refunds))
        done = sum(r["total"] for r in refunds)
        if done + body["total"] > sold["total"]:
            raise InvalidInput("total", f"{yuan(body['total'])} is more than is left to refund: "
                                        f"sale {sale_seq} was {yuan(sold['total'])}, "
                                        f"{yuan(done)} already refunded")
        approved = await svc.approve(req.get("approval"), "refund", body["total"])
        return _reversal("refund", svc, approved, body, sale_record,
                         f"退款 {body['order']} (销售 {sale_seq})")

    entry, created = await svc.run(key, request, (f"sale:{sale_seq}",), prepare)
    return Outcome(entry, created)


async def void(svc: SalesService, raw: object, key: str | None, request: str) -> Outcome:
    """POST /v1/voids: cancel a whole sale of the open day (same total and payments);
    approval above the configured amount."""
    req = request_object(raw, VOID_FIELDS)
    sale_seq = req.get("sale_seq")
    check(POS_SEQ, sale_seq, "sale_seq")

    async def prepare() -> Prepared:
        sale_record, earlier = await _sale_and_after(svc, sale_seq)
        if earlier:
            raise InvalidInput("sale_seq", f"sale {sale_seq} was partly refunded; refund the "
                                           "rest instead")
        last = await asyncio.to_thread(svc.reader.last_of, "day_close")
        if last is not None and sale_record["seq"] < last["seq"]:
            raise InvalidInput("sale_seq", f"sale {sale_seq} belongs to a closed day "
                                           f"({last['body']['day']}); refund it instead")
        body = void_body(req, sale_record["body"], svc.journal.head.size)
        approved = await svc.approve(req.get("approval"), "void", body["total"])
        return _reversal("void", svc, approved, body, sale_record,
                         f"作废 {sale_record['body']['order']} (销售 {sale_seq})")

    entry, created = await svc.run(key, request, (f"sale:{sale_seq}",), prepare)
    return Outcome(entry, created)


async def handover(svc: SalesService, raw: object, key: str | None, request: str) -> Outcome:
    """POST /v1/handovers: a container's flow card and a worker's badge scanned at a step."""
    req = request_object(raw, HANDOVER_FIELDS)
    worker = req.get("worker")
    if not isinstance(worker, str) or not worker.strip():
        raise InvalidInput("worker", "must be the worker's id or the code scanned from their "
                                     "badge")
    worker_id = svc.config.journal.worker_id(worker)
    h = handover_body(req, worker_id, svc.journal.head.size)

    rules = svc.handover_rules

    async def prepare() -> Prepared:
        body = h.body if rules is None else await rules.check_handover(h.card, h.body)
        return Prepared("handover", body,
                        lambda: svc.append("handover", body, HANDOVER_RENAMES))

    locks = () if rules is None else (rules.lock(h.card.task),)
    entry, created = await svc.run(key, request, locks, prepare)
    card: Mapping[str, Any] = {"task": h.card.task, "split": h.card.split, "of": h.card.of,
                               "qty": h.card.qty}
    return Outcome(entry, created, {"flow_card": card, "worker": worker_id})
