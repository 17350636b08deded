"""The cash drawer's one gate: every kick outside a cash sale needs an approval and is journaled.

Paths that kick (docs/local-api.md, "Cash drawer"): `POST /v1/printers/{id}/drawer`, a print job
whose bytes hold a drawer command (a `drawer` block, `ESC p` or `DLE DC4 1` in a raw job, read
with drivers.escpos.drawer_scan), and HQ's signed `open_drawer` command. A cash sale's own kick
(`open_drawer: true`) belongs to its journaled sale and passes without one. The approval is a
supervisor's PIN or badge on the local API, HQ's signature for its command; a cloud print job
cannot carry one and is refused where an approval is needed. Each admitted kick leaves an
`audit` record `drawer.open` naming who approved (`ref_seq`: the `approval` record).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from agent.printing.jobs import PrintJob, is_label_printer
from agent.sales import SalesError
from agent.sales.audit import note
from agent.sales.requests import check
from drivers import InvalidInput
from drivers.escpos.document import Drawer, parse_document
from drivers.escpos.drawer_scan import drawer_kicks
from drivers.profiles import PrinterProfile
from sync.journal.schema import text

if TYPE_CHECKING:
    from agent.journal.store import JournalStore
    from agent.sales.approvals import Approved
    from sync.journal.record import Entry


class SalesService(Protocol):
    """What the drawer's gate needs of the sales service (agent/sales/service.py)."""

    def approval_needed(self, action: str, amount: int = 0) -> bool:
        """Whether `action` needs a supervisor."""

    async def approve(self, raw: object, action: str, amount: int = 0) -> Approved | None:
        """The approver if one is needed or given; ApprovalError if refused."""

    async def append_approval(self, approved: Approved, action: str, subject: str, *,
                              amount: int | None = None, ref_seq: int | None = None) -> Entry:
        """The approval record, appended before the action that references it."""

ACTION = "drawer_open"
EVENT = "drawer.open"
HQ_ACTOR = "hq"


class DrawerRefusedError(SalesError):
    """A kick the gate does not let through (403 on the local API, `refused` over MQTT)."""

    status = 403


def job_kick(job: PrintJob, profile: PrinterProfile, data: bytes) -> tuple[str, str] | None:
    """(field, what) when `data`, the rendered bytes of `job`, would open the drawer; else None.

    Only receipt printers have a drawer port; label printers' bytes are not ESC/POS.
    """
    if is_label_printer(profile):
        return None
    kicks = drawer_kicks(data)
    if not kicks:
        return None
    return _field(job), f"{kicks[0].command} at byte {kicks[0].offset}"


def _field(job: PrintJob) -> str:
    """The request field that carries the kick."""
    if job.kind == "raw":
        return "raw"
    if job.kind == "document":
        try:
            blocks = parse_document(job.body.get("document")).blocks
        except InvalidInput:
            return "document"
        for i, b in enumerate(blocks):
            if isinstance(b, Drawer):
                return f"document.blocks[{i}]"
        return "document"
    return "template"


def needs_approval(sales: SalesService | None) -> bool:
    """Whether a kick outside a sale needs a supervisor here (journal.approval_drawer with at
    least one supervisor configured); a box without a journal has no supervisors."""
    return sales is not None and sales.approval_needed(ACTION)


async def admit_local(sales: SalesService | None, request: web.Request, body: Mapping[str, Any],
                      printer: str, what: str, field: str = "approval") -> None:
    """Let a kick asked on the local API through, or raise (403 naming `field` and why).

    `body` may carry `approval`, `reason` and `clerk`; the approval record is written before
    the kick, and the request is audited as `drawer.open` referencing it.
    """
    if sales is None:
        return
    note(request, EVENT, claimed=body.get("clerk"), detail=f"{what} (drawer of {printer})")
    raw = body.get("approval")
    if raw is None and sales.approval_needed(ACTION):
        raise DrawerRefusedError(field, f"{what}: opening the cash drawer outside a cash sale "
                                        "needs a supervisor's approval (`approval`: badge or PIN)")
    approved = await sales.approve(raw, ACTION)
    if approved is None:
        return
    reason = body.get("reason")
    if reason is not None:
        check(text(1, 150), reason, "reason")
    subject = f"开钱箱 {printer}" + (f": {reason}" if reason else "")
    entry = await sales.append_approval(approved, ACTION, subject[:200])
    seq = int(entry.record()["seq"])
    note(request, actor=approved.approver, ref_seq=seq,
         detail=f"{what} (drawer of {printer}), approval {seq} by {approved.approver} "
         f"({approved.via})")


def refuse_remote_job(sales: SalesService | None, job: PrintJob, field: str,
                      what: str) -> str | None:
    """Why a cloud print job that kicks the drawer is refused, or None where none is needed."""
    if not needs_approval(sales):
        return None
    return (f"{field}: print job {job.id} opens the cash drawer ({what}), which needs a "
            "supervisor's approval on this box; HQ opens it with the signed open_drawer command")


async def journal_remote(journal: JournalStore | None, detail: str) -> None:
    """Journal a kick HQ approved (its signed command, or a cloud job where no approval is
    needed) before it happens; DrawerRefusedError if the record cannot be written."""
    if journal is None:
        return
    try:
        await journal.append("audit", {"event": EVENT, "actor": HQ_ACTOR,
                                       "detail": detail[:500]})
    except Exception as e:
        raise DrawerRefusedError("drawer", f"the kick could not be journaled: {e}") from e

