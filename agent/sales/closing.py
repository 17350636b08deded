"""Day close (Z report, printed on the receipt printer) and re-opening a closed day."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from agent.config import PrinterConfig
from agent.sales import ConflictError
from agent.sales.audit import action_audit, audited
from agent.sales.receipts import receipt_printer, zreport_job
from agent.sales.requests import (
    DAY_CLOSE_FIELDS,
    REOPEN_FIELDS,
    cash_counted,
    check,
    input_error,
    request_object,
)
from agent.sales.service import Outcome, Prepared, SalesService, wall_ms
from agent.sales.zreport import ZReport, document, summarize
from drivers import InvalidInput
from sync.journal import RecordError
from sync.journal.receipt_qr import from_entry
from sync.journal.record import Entry
from sync.journal.schema import ID, day, text

DAY = day()
FUTURE_TOLERANCE = timedelta(days=1)
"""How far after the box's local date a day close may name (a close just after midnight of a
till whose clock is a little behind the shop's)."""


def local_date(now_ms: int) -> date:
    """The box's local calendar date at `now_ms`."""
    return datetime.fromtimestamp(now_ms / 1000).astimezone().date()


def check_close_day(the_day: str, today: date) -> None:
    """InvalidInput("day") when `the_day` lies more than FUTURE_TOLERANCE after `today`.

    A close of a future day would be the last closed day, and every real close before it
    would be refused (docs/local-api.md, day close).
    """
    latest = today + FUTURE_TOLERANCE
    if date.fromisoformat(the_day) > latest:
        raise InvalidInput("day", f"{the_day} is after the box's date {today.isoformat()} "
                                  f"(at most {latest.isoformat()} may be closed)")


def _printer(svc: SalesService, req: dict[str, Any]) -> PrinterConfig | None:
    wanted = req.get("print")
    if wanted is not None and not isinstance(wanted, bool):
        raise InvalidInput("print", "must be true or false")
    if wanted is False:
        return None
    if req.get("printer") is None and svc.config.journal.receipt_printer is None:
        if wanted:
            raise InvalidInput("printer", "name a printer (no journal.receipt_printer is "
                                          "configured)")
        return None
    return receipt_printer(svc.config, req.get("printer"), "printer")


async def zreport(svc: SalesService, entry: Entry) -> ZReport:
    """The Z report of a committed day close."""
    close = entry.record()
    body = close["body"]

    def read() -> tuple[str, list[dict[str, Any]]]:
        note = svc.reader.checkpoint(close["seq"] + 1) or ""
        return note, list(svc.reader.records(body["from_seq"], body["to_seq"]))

    note, records = await asyncio.to_thread(read)
    return summarize(close, records, note, from_entry(entry).text())


async def day_close(svc: SalesService, raw: object, key: str | None, request: str) -> Outcome:
    """POST /v1/day-close: the day_close record and checkpoint, then the Z report printed.

    A day closed already cannot be closed again unless a supervisor re-opened it.
    """
    req = dict(request_object(raw, DAY_CLOSE_FIELDS))
    the_day = req.get("day")
    today = local_date(wall_ms())
    if the_day is None:
        the_day = today.isoformat()
    check(DAY, the_day, "day")
    check_close_day(the_day, today)
    extra: dict[str, Any] = {}
    for src, dst in (("till", "till"), ("clerk", "cashier")):
        if req.get(src) is not None:
            check(ID, req[src], src)
            extra[dst] = req[src]
    counted = cash_counted(req)
    if counted is not None:
        extra["cash_counted"] = counted
    printer = _printer(svc, req)

    async def prepare() -> Prepared:
        # A re-opened close bounds nothing: re-opening a close of a wrong (future) day is the
        # way back to closing the right one.
        last = await asyncio.to_thread(svc.reader.standing_close)
        if last is not None:
            closed = last["body"]["day"]
            if the_day < closed:
                raise ConflictError("day", f"{the_day} is before the last closed day {closed}")
            if the_day == closed:
                raise ConflictError("day", f"{closed} is already closed (Z{last['body']['z']}, "
                                           f"record {last['seq']}); a supervisor must re-open "
                                           "it first (POST /v1/day-reopen)")

        async def commit() -> Entry:
            try:
                audit = action_audit("day_close", extra)
                appended, _ = await svc.journal.day_close(the_day, audit, **extra)
            except RecordError as e:
                raise input_error(e) from None
            if audit is not None:
                audited(appended.seq)
            return appended.entry

        return Prepared("day_close", {"day": the_day, **extra}, commit)

    entry, created = await svc.run(key, request, ("day",), prepare)
    z = await zreport(svc, entry)
    out: dict[str, Any] = {"day": z.day, "z": z.z, "from_seq": z.from_seq, "to_seq": z.to_seq,
                           "period": z.period, "totals": z.totals, "checkpoint": z.checkpoint}
    if printer is not None:
        log_id = entry.record()["log"]
        job = zreport_job(log_id, z.seq, printer.id,
                          document(z, store=svc.store_name(), columns=printer.profile.columns),
                          z.time)
        try:
            submitted = await svc.queue.submit(job)
            out["print_job"] = {"id": job.id, "state": submitted.job.state.value}
        except Exception as e:  # the day is closed whatever happens to the paper
            out["print_job"] = {"id": job.id, "state": None, "error": str(e)}
    return Outcome(entry, created, out)


async def day_reopen(svc: SalesService, raw: object) -> Outcome:
    """POST /v1/day-reopen: a supervisor's approval record re-opens the last closed day, so it
    may be closed again (a new Z report for the same day)."""
    req = request_object(raw, REOPEN_FIELDS)
    reason = req.get("reason")
    check(text(1, 150), reason, "reason")
    async with svc.locks.hold("day"):
        last = await asyncio.to_thread(svc.reader.last_of, "day_close")
        if last is None:
            raise ConflictError("day", "no day has been closed yet")
        closed, z = last["body"]["day"], last["body"]["z"]
        if req.get("day", closed) != closed:
            raise ConflictError("day", f"only the last closed day ({closed}) can be re-opened")
        earlier = await asyncio.to_thread(svc.reader.approval_for, "day_reopen", last["seq"])
        if earlier is not None:
            raise ConflictError("day", f"{closed} was re-opened already (approval {earlier})")
        approved = await svc.approve(req.get("approval"), "day_reopen")
        if approved is None:  # the rules always ask for one; never re-open without it
            raise InvalidInput("approval", "re-opening a day needs a supervisor's approval")
        entry = await svc.append_approval(approved, "day_reopen",
                                          f"重开营业日 {closed} (Z{z}): {reason}",
                                          ref_seq=last["seq"])
    return Outcome(entry, True, {"day": closed, "z": z, "close_seq": last["seq"],
                                 "approver": approved.approver})
