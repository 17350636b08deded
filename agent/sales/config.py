"""The `[journal]` table of the box configuration: journal on/off, approval rules, supervisors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import msgspec
from msgspec import Meta

from agent.sales.approvals import SupervisorSecret, parse_hash
from sync.journal import RecordError
from sync.journal.schema import ID, MAX_MONEY, run
from validation import Problem, Schema
from validation.decode import collect


@dataclass(frozen=True)
class Worker:
    """A workshop worker: the id recorded in handovers and the badge code scanned at a step."""

    id: str
    name: str = ""
    badge: str = ""


@dataclass(frozen=True)
class JournalConfig:
    """Journal settings. Approval thresholds in fen; None: that operation never needs approval.

    Approvals apply only with at least one supervisor configured (nobody could give one
    otherwise); a threshold without a supervisor is a configuration error. Re-opening a closed
    day always needs an approval.
    """

    enabled: bool = True
    receipt_printer: str | None = None
    approval_refund_over_fen: int | None = None
    approval_void_over_fen: int | None = None
    approval_drawer: bool = True
    supervisors: tuple[SupervisorSecret, ...] = ()
    workers: tuple[Worker, ...] = ()

    def worker_id(self, scanned: str) -> str:
        """The worker id for a scanned badge code (as is when it is no configured badge)."""
        code = scanned.strip()
        return next((w.id for w in self.workers if w.badge and w.badge == code), code)


Money = Annotated[int, Meta(ge=0, le=MAX_MONEY)]


class SupervisorTable(Schema, frozen=True, kw_only=True):
    """`[[journal.supervisors]]`: who may approve, by PIN and/or badge (hashes only)."""

    id: str
    name: str = ""
    pin_hash: str | None = None
    badge_hash: str | None = None


class WorkerTable(Schema, frozen=True, kw_only=True):
    """`[[journal.workers]]`."""

    id: str
    name: str = ""
    badge: str = ""


class JournalTable(Schema, frozen=True, kw_only=True):
    """`[journal]`."""

    enabled: bool = True
    receipt_printer: str | None = None
    approval_refund_over_fen: Money | None = None
    approval_void_over_fen: Money | None = None
    approval_drawer: bool = True
    supervisors: list[SupervisorTable] = msgspec.field(default_factory=list)
    workers: list[WorkerTable] = msgspec.field(default_factory=list)


def _rules(j: Mapping[str, object], printers: Mapping[str, str], problems: list[Problem]
           ) -> None:
    """The rules a schema cannot say: journal ids, secret hashes, printers, approvers."""
    printer = j.get("receipt_printer")
    if isinstance(printer, str):
        language = printers.get(printer)
        if language is None:
            problems.append(Problem("journal.receipt_printer",
                                    f"no printer {printer!r} is configured"))
        elif language in ("tspl", "zpl"):
            problems.append(Problem("journal.receipt_printer",
                                    f"{printer!r} is a label printer"))
    supervisors = j.get("supervisors")
    seen: set[str] = set()
    for key in ("supervisors", "workers"):
        items = j.get(key)
        for i, item in enumerate(items if isinstance(items, list) else ()):
            path = f"journal.{key}[{i}]"
            if not isinstance(item, Mapping):
                continue
            sid = item.get("id")
            if isinstance(sid, str):
                try:
                    run(ID, sid, f"{path}.id")
                except RecordError as e:
                    problems.append(Problem(e.field, e.reason))
            if key == "workers":
                continue
            if isinstance(sid, str) and sid in seen:
                problems.append(Problem(f"{path}.id", f"duplicate supervisor id {sid!r}"))
            seen.add(str(sid))
            for secret in ("pin_hash", "badge_hash"):
                if isinstance(item.get(secret), str):
                    try:
                        parse_hash(str(item[secret]))
                    except ValueError as e:
                        problems.append(Problem(f"{path}.{secret}", str(e)))
            if "pin_hash" not in item and "badge_hash" not in item:
                problems.append(Problem(path, "needs pin_hash or badge_hash"))
    for key in ("approval_refund_over_fen", "approval_void_over_fen"):
        if key in j and not supervisors:
            problems.append(Problem(f"journal.{key}", "needs at least one "
                                                      "[[journal.supervisors]] to approve"))


def parse_journal(raw: Mapping[str, object], printers: Mapping[str, str],
                  problems: list[Problem]) -> JournalConfig:
    """Read `[journal]`; `printers` maps printer id to its profile's language."""
    j = raw.get("journal", {})
    t = collect(j, JournalTable, problems, "journal")
    if isinstance(j, Mapping):
        _rules(j, printers, problems)
    if t is None:
        return JournalConfig()
    return JournalConfig(t.enabled, t.receipt_printer, t.approval_refund_over_fen,
                         t.approval_void_over_fen, t.approval_drawer,
                         tuple(SupervisorSecret(s.id, s.name, s.pin_hash, s.badge_hash)
                               for s in t.supervisors),
                         tuple(Worker(w.id, w.name, w.badge.strip()) for w in t.workers))
