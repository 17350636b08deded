"""The `[journal]` table of the box configuration: journal on/off, approval rules, supervisors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.sales.approvals import SupervisorSecret, parse_hash
from sync.journal import RecordError
from sync.journal.schema import ID, MAX_MONEY, run

if TYPE_CHECKING:
    from agent.config import PrinterConfig, _Reader



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


def _id(r: _Reader, raw: Mapping[str, object], key: str, path: str) -> str:
    value = r.text(raw, key, path, required=True)
    if value:
        try:
            run(ID, value, f"{path}.{key}")
        except RecordError as e:
            r.errors.append(f"{e.field}: {e.reason}")
    return value


def _money(r: _Reader, raw: Mapping[str, object], key: str) -> int | None:
    if key not in raw:
        return None
    return r.integer(raw, key, "journal", None, 0, MAX_MONEY)


def _secret(r: _Reader, raw: Mapping[str, object], key: str, path: str) -> str | None:
    if key not in raw:
        return None
    value = r.text(raw, key, path)
    try:
        parse_hash(value)
    except ValueError as e:
        r.errors.append(f"{path}.{key}: {e}")
        return None
    return value


def _supervisors(r: _Reader, raw: Mapping[str, object]) -> tuple[SupervisorSecret, ...]:
    items = raw.get("supervisors", [])
    if not isinstance(items, list):
        r.errors.append("journal.supervisors: must be an array of tables")
        return ()
    out: list[SupervisorSecret] = []
    for i, s in enumerate(items):
        path = f"journal.supervisors[{i}]"
        if not isinstance(s, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        r.unknown(s, path, {"id", "name", "pin_hash", "badge_hash"})
        sid = _id(r, s, "id", path)
        if any(x.id == sid for x in out):
            r.errors.append(f"{path}.id: duplicate supervisor id {sid!r}")
        pin, badge = _secret(r, s, "pin_hash", path), _secret(r, s, "badge_hash", path)
        if "pin_hash" not in s and "badge_hash" not in s:
            r.errors.append(f"{path}: needs pin_hash or badge_hash")
        out.append(SupervisorSecret(sid, r.text(s, "name", path, ""), pin, badge))
    return tuple(out)


def _workers(r: _Reader, raw: Mapping[str, object]) -> tuple[Worker, ...]:
    items = raw.get("workers", [])
    if not isinstance(items, list):
        r.errors.append("journal.workers: must be an array of tables")
        return ()
    out: list[Worker] = []
    for i, w in enumerate(items):
        path = f"journal.workers[{i}]"
        if not isinstance(w, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        r.unknown(w, path, {"id", "name", "badge"})
        out.append(Worker(_id(r, w, "id", path), r.text(w, "name", path, ""),
                          r.text(w, "badge", path, "").strip()))
    return tuple(out)


def parse_journal(r: _Reader, raw: Mapping[str, object],
                  printers: Mapping[str, PrinterConfig]) -> JournalConfig:
    """Read `[journal]`; errors go to the reader under their dotted keys."""
    j = r.table(raw, "journal", "journal")
    r.unknown(j, "journal", {"enabled", "receipt_printer", "approval_refund_over_fen",
                             "approval_void_over_fen", "approval_drawer", "supervisors",
                             "workers"})
    printer = r.text(j, "receipt_printer", "journal") if "receipt_printer" in j else None
    if printer is not None:
        cfg = printers.get(printer)
        if cfg is None:
            r.errors.append(f"journal.receipt_printer: no printer {printer!r} is configured")
        elif cfg.profile.language in ("tspl", "zpl"):
            r.errors.append(f"journal.receipt_printer: {printer!r} is a label printer")
    supervisors = _supervisors(r, j)
    config = JournalConfig(r.flag(j, "enabled", "journal", True), printer,
                           _money(r, j, "approval_refund_over_fen"),
                           _money(r, j, "approval_void_over_fen"),
                           r.flag(j, "approval_drawer", "journal", True), supervisors,
                           _workers(r, j))
    for key in ("approval_refund_over_fen", "approval_void_over_fen"):
        if key in j and not supervisors:
            r.errors.append(f"journal.{key}: needs at least one [[journal.supervisors]] to "
                            "approve")
    return config
