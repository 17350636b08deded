"""The production-task service: tasks, splits and reprints on the journal, flow cards queued on
the label printer (docs/workshop.md). The workshop state is folded from the journal itself."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agent.printing.jobs import is_label_printer, parse_job
from agent.sales import ConflictError
from agent.sales.service import SalesService, entry_seq
from agent.station import RuleRefusedError, UnknownTaskError
from agent.station.engine import judge
from agent.station.tasks import Part, Task, Workshop, task_body
from drivers import InvalidInput
from drivers.label.flowcard import FlowCard
from sync.journal import RecordError
from sync.journal.schema import ID, run, text

log = logging.getLogger(__name__)

CARD_SIZE = "60x40"


class TaskService:
    """Production tasks on one box's journal; every change is a record, then its cards."""

    def __init__(self, sales: SalesService) -> None:
        self.sales = sales
        self.workshop = Workshop()

    async def catch_up(self) -> Workshop:
        """Fold every record committed since the last call (from any writer) into the state."""
        head = self.sales.journal.head.size
        if head > self.workshop.size:
            start = self.workshop.size
            records = await asyncio.to_thread(
                lambda: list(self.sales.reader.records(start, head - 1)))
            self.workshop.observe_all(records)
        return self.workshop

    def lock(self, task: str) -> str:
        """The lock name of task `task`: its splits, reprints and handovers take turns."""
        return f"task:{task}"

    async def check_handover(self, card: FlowCard, body: dict[str, Any]) -> dict[str, Any]:
        """A handover request's body under the station's rules (called holding the task's
        lock): completed from the route, or RuleRefusedError (409) naming the field."""
        ws = await self.catch_up()
        judged = judge(ws, card, body,
                       frozenset(w.id for w in self.sales.config.journal.workers))
        if isinstance(judged, tuple):
            raise RuleRefusedError(*judged)
        return judged

    # --- requests -----------------------------------------------------------------------------

    async def add(self, raw: object, source: str = "box", ref: str | None = None
                  ) -> tuple[Task, bool, dict[str, Any] | None]:
        """Record a task (the same task again is a replay; a different one under its number is
        a ConflictError); with `split_size` it is split and its cards printed at once."""
        body = task_body(raw, source, ref)
        no = body["task"]
        async with self.sales.locks.hold(f"task:{no}"):
            ws = await self.catch_up()
            known = ws.tasks.get(no)
            if known is not None:
                mine = {k: v for k, v in known.body.items() if k not in ("source", "ref")}
                if mine != {k: v for k, v in body.items() if k not in ("source", "ref")}:
                    raise ConflictError("task_no", f"task {no} is recorded (record {known.seq}) "
                                                   "with other contents")
                return known, False, None
            await self.sales.append("production_task", body)
            ws = await self.catch_up()
            split = None
            size = raw.get("split_size") if isinstance(raw, Mapping) else None
            if size is not None:
                split = await self._split(no, {"size": size}, None)
            return ws.tasks[no], True, split

    async def split(self, no: str, raw: object) -> dict[str, Any]:
        """Split task `no` into parts (once); each part's card is queued."""
        async with self.sales.locks.hold(f"task:{no}"):
            return await self._split(no, raw, None)

    async def resplit(self, no: str, n: int, raw: object) -> dict[str, Any]:
        """Re-split part `n` of task `no` (only while it has no handover)."""
        async with self.sales.locks.hold(f"task:{no}"):
            return await self._split(no, raw, n)

    async def _split(self, no: str, raw: object, n: int | None) -> dict[str, Any]:
        ws = await self.catch_up()
        printer = self.label_printer(raw)
        body = ws.split_body(no, raw) if n is None else ws.resplit_body(no, n, raw)
        entry = await self.sales.append("split", body)
        ws = await self.catch_up()
        task = ws.tasks[no]
        made = [task.parts[p["part"]] for p in body["parts"]]
        return {"seq": entry_seq(entry), "task": task.json(),
                "cards": await self.print_cards(task, made, printer, entry_seq(entry))}

    async def reprint(self, no: str, n: int, raw: object) -> dict[str, Any]:
        """Reprint part `n`'s card marked 补打, after an `audit` `flow_card.reprint` record."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("body", "must be a JSON object")
        extra = set(raw) - {"printer", "clerk", "reason"}
        if extra:
            raise InvalidInput(str(min(extra)), "unknown field")
        actor = raw.get("clerk", "anonymous")
        run_field(ID, actor, "clerk")
        reason = raw.get("reason", "流转卡补打")
        run_field(text(1, 200), reason, "reason")
        async with self.sales.locks.hold(f"task:{no}"):
            ws = await self.catch_up()
            task = ws.task(no)
            part = task.parts.get(n)
            if part is None or part.retired:
                raise UnknownTaskError("part", f"task {no} has no live part {n}")
            printer = self.label_printer(raw)
            entry = await self.sales.append("audit", {
                "event": "flow_card.reprint", "actor": actor,
                "detail": f"{no} {n}/{part.of} 补打: {reason}"[:500]})
            seq = entry_seq(entry)
            cards = await self.print_cards(task, [part], printer, seq, reprint=True)
            return {"seq": seq, "cards": cards}

    # --- flow cards ---------------------------------------------------------------------------

    def label_printer(self, raw: object) -> str | None:
        """The request's `printer` (a configured label printer), else the first station's label
        printer, else the first label printer configured, else None (the records are made; no
        card is printed)."""
        cfg = self.sales.config
        name = raw.get("printer") if isinstance(raw, Mapping) else None
        if name is not None:
            printer = cfg.printer(name) if isinstance(name, str) else None
            if printer is None or not is_label_printer(printer.profile):
                raise InvalidInput("printer", "must be a configured label printer (TSPL/ZPL)")
            return printer.id
        for station in cfg.stations:
            if station.label_printer is not None:
                return station.label_printer
        return next((p.id for p in cfg.printers if is_label_printer(p.profile)), None)

    async def print_cards(self, task: Task, parts: list[Part], printer: str | None, seq: int,
                          reprint: bool = False) -> list[dict[str, Any]]:
        """Queue one flow card per part; each answer names its job (or why it is not queued)."""
        out: list[dict[str, Any]] = []
        log_id = self.sales.journal.head.log
        for part in parts:
            job_id = f"flowcard-{log_id}-{task.body['task']}-{part.part}" + (
                f"-r{seq}" if reprint else "")
            card: dict[str, Any] = {"part": part.part, "job": job_id, "printer": printer}
            if printer is None:
                out.append({**card, "state": None, "error": "no label printer is configured"})
                continue
            try:
                job = parse_job({"id": job_id, "printer": printer, "template": "flow_card",
                                 "data": card_data(task, part, wall_ms(), reprint)})
                submitted = await self.sales.queue.submit(job)
            except Exception as e:  # the split is committed whatever happens to its paper
                log.warning("flow card %s not queued: %s", job_id, e)
                out.append({**card, "state": None, "error": str(e)})
                continue
            out.append({**card, "state": submitted.job.state.value})
        return out


def card_data(task: Task, part: Part, now_ms: int, reprint: bool) -> dict[str, Any]:
    """The `flow_card` template data of one part (names cut to what the card holds)."""
    b = task.body
    data: dict[str, Any] = {
        "task_no": b["task"], "split": f"{part.part}/{part.of}", "product_code": b["product"][:24],
        "product_name": b["product_name"][:40], "qty": part.qty,
        "route": [{"step": s["step"], "name": s["name"][:12]} for s in b["route"]],
        "date": datetime.fromtimestamp(now_ms / 1000).strftime("%Y-%m-%d"), "size": CARD_SIZE}
    if "unit" in b:
        data["unit"] = b["unit"][:4]
    if reprint:
        data["reprint"] = True
    return data


def run_field(check: Any, value: object, field: str) -> None:
    """Apply a journal check to a request field; InvalidInput naming `field`."""
    try:
        run(check, value, field)
    except RecordError as e:
        raise InvalidInput(e.field, e.reason) from None


def wall_ms() -> int:
    """The wall clock in ms."""
    return time.time_ns() // 1_000_000
