"""One running station: its scanner's events (and codes typed into its page) → handovers on the
journal, each result published as a `station` event (docs/workshop.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.devices.displays import DisplayUnavailableError, DisplayWriter
from agent.events import EventBus
from agent.printing.jobs import parse_job
from agent.sales import SalesError
from agent.sales.scanned import CredentialScans
from agent.sales.service import entry_seq
from agent.station.config import StationConfig
from agent.station.engine import Kind, Pair, Pairing, Refusal, Scan, Waiting, classify, decide
from agent.station.service import TaskService
from drivers import InvalidInput

log = logging.getLogger(__name__)

BEEP = {"type": "beep", "times": 2, "duration": 3}
"""A refusal's beep: twice, 300 ms each."""


def wall_ms() -> int:
    """The wall clock in ms."""
    return time.time_ns() // 1_000_000


@dataclass(eq=False)
class StationRunner:
    """Feeds one station's scans through its pairing and rules, one scan at a time."""

    cfg: StationConfig
    tasks: TaskService
    bus: EventBus
    scans: CredentialScans | None
    names: Mapping[str, str]
    display: DisplayWriter | None = None
    pairing: Pairing = field(init=False)
    last: tuple[int, int, str] | None = field(init=False, default=None)
    """The station's last handover: (seq, at_ms, worker) — what the undo code undoes."""
    last_result: dict[str, Any] = field(init=False)
    results: int = field(init=False, default=0)
    """Results published so far (a reader can tell two equal results apart)."""
    _serial: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.pairing = Pairing(self.cfg)
        self.last_result = {"type": "station", "station": self.cfg.id,
                            "result": "idle", "message": "请扫流转卡或刷工牌"}

    async def run(self) -> None:
        """Consume the bus until cancelled: this station's scanner's scans and badges."""
        sub = self.bus.subscribe()
        try:
            async for event in sub:
                if event.get("device") != self.cfg.scanner:
                    continue
                try:
                    if event.get("type") == "scan":
                        await self.feed(classify(str(event.get("code", "")),
                                                 _at(event.get("at_ms"))))
                    elif event.get("type") == "badge":
                        kind: Kind = ("worker" if event.get("role") == "worker"
                                      else "supervisor")
                        await self.feed(Scan(kind, _at(event.get("at_ms")),
                                             who=str(event.get("id", ""))))
                except Exception:
                    log.exception("station %s: a scan could not be handled", self.cfg.id)
        finally:
            sub.close()

    async def typed(self, code: str) -> dict[str, Any]:
        """A code typed into the station page (a keyboard-wedge scanner): badge or card."""
        now = wall_ms()
        who = await asyncio.to_thread(self.scans.recognise, code) if self.scans else None
        if who is not None:
            if who.role == "supervisor" and self.scans is not None:
                self.scans.hold(self.cfg.scanner, code, who, now)
            return await self.feed(Scan("worker" if who.role == "worker" else "supervisor", now,
                                        who=who.who))
        return await self.feed(classify(code, now))

    async def feed(self, scan: Scan) -> dict[str, Any]:
        """Handle one scan; publish and return its result."""
        async with self._serial:
            result = await self._handle(scan)
            await self._show(result)
            if result["result"] == "refused":
                await self._beep()
            return result

    async def _handle(self, scan: Scan) -> dict[str, Any]:
        if scan.kind == "undo":
            return self._publish(await self._undo(scan.at_ms))
        if scan.kind == "supervisor":
            return self._publish({"result": "waiting", "message": "主管已刷卡，请扫撤销码"})
        outcome = self.pairing.feed(scan)
        if isinstance(outcome, Refusal):
            return self._publish({"result": "refused", "message": outcome.message})
        if isinstance(outcome, Waiting):
            return self._publish({"result": "waiting", "message": outcome.message})
        if isinstance(outcome, Pair):
            return self._publish(await self._handover(outcome, scan.at_ms))
        return self._publish({"result": "refused", "message": "无法识别的条码"})

    async def _handover(self, pair: Pair, at_ms: int) -> dict[str, Any]:
        card, sales = pair.card, self.tasks.sales
        async with sales.locks.hold(f"task:{card.task}"):
            ws = await self.tasks.catch_up()
            body = decide(ws, card, pair.worker, self.cfg.steps, pair.supplier, pair.defects,
                          pair.through)
            if isinstance(body, Refusal):
                return {"result": "refused", "message": body.message, "worker": pair.worker}
            try:
                entry = await sales.append("handover", body)
            except (InvalidInput, SalesError) as e:
                return {"result": "refused", "message": f"记录失败：{e}", "worker": pair.worker}
            ws = await self.tasks.catch_up()
        seq = entry_seq(entry)
        self.last = (seq, at_ms, pair.worker)
        name = self.names.get(pair.worker, pair.worker)
        start, end = local_day(entry.record()["time"])
        if pair.supplier:
            what = "委外发出" if body["outsourced"] == "out" else "委外收回"
            steps = f"{body['step']} {body['step_name']}" + (
                f"–{body['through']}" if "through" in body else "")
            return {"result": "ok", "seq": seq, "supplier": pair.worker, "step": body["step"],
                    "qty": body["qty"], "task": card.task, "part": card.split,
                    "message": f"✓ {what} {steps} {card.task} "
                               f"{card.split}/{card.of} {body['qty']} 件 供应商 {pair.worker}"}
        bad = sum(d["qty"] for d in body.get("defects", ()))
        return {"result": "ok", "seq": seq, "worker": pair.worker, "worker_name": name,
                "defective": bad,
                "today": ws.good_by(pair.worker, start, end),
                "message": f"✓ {body['step']} {body['step_name']} {card.task} "
                           f"{card.split}/{card.of} 合格 {body['qty']} 件"
                           + (f" 不良 {bad} 件" if bad else "") + f" {name}",
                "step": body["step"], "qty": body["qty"], "task": card.task,
                "part": card.split}

    async def _undo(self, at_ms: int) -> dict[str, Any]:
        if self.last is None:
            return {"result": "refused", "message": "本工位没有可撤销的交接"}
        seq, done_ms, worker = self.last
        sales = self.tasks.sales
        body: dict[str, Any] = {"handover_seq": seq, "reason": "工位扫码撤销",
                                "station": self.cfg.id, "actor": worker}
        if at_ms - done_ms >= int(self.cfg.undo_window_s * 1000):
            try:
                approved = await sales.approve({"scanner": self.cfg.scanner}, "handover_undo")
            except SalesError:
                limit = int(self.cfg.undo_window_s)
                return {"result": "refused",
                        "message": f"已超过撤销时限 {limit} 秒：请主管先刷卡，再扫撤销码"}
            assert approved is not None
            a = await sales.append_approval(approved, "handover_undo",
                                            f"撤销交接 {seq}（工位 {self.cfg.id}）", ref_seq=seq)
            body["approval_seq"] = entry_seq(a)
            body["actor"] = approved.approver
        entry = await sales.append("handover_undo", body)
        await self.tasks.catch_up()
        self.last = None
        return {"result": "ok", "seq": entry_seq(entry), "worker": worker,
                "message": f"已撤销交接（记录 {seq}）"}

    async def _show(self, result: dict[str, Any]) -> None:
        """The same result on the station's customer display, in two short lines."""
        if self.display is None:
            return
        heads = {"ok": "已交接", "refused": "拒绝", "waiting": "请继续扫码"}
        head = heads.get(result["result"], "")
        try:
            await self.display.show({"lines": [head, display_line(result["message"])]})
        except (DisplayUnavailableError, InvalidInput) as e:
            log.warning("station %s: display %s: %s", self.cfg.id, self.display.id, e)

    async def _beep(self) -> None:
        """Sound the station's beeper (an ESC/POS buzzer: ESC B 2 3) for a refusal; a printer
        that cannot take the job is logged and never holds up the scan."""
        if self.cfg.beeper is None:
            return
        job_id = f"beep-{self.cfg.id}-{wall_ms()}-{self.results}"
        try:
            job = parse_job({"id": job_id, "printer": self.cfg.beeper,
                             "document": {"blocks": [BEEP]}})
            await self.tasks.sales.queue.submit(job)
        except Exception as e:  # a refusal stands whatever happens to its beep
            log.warning("station %s: beeper %s: %s", self.cfg.id, self.cfg.beeper, e)

    def _publish(self, result: dict[str, Any]) -> dict[str, Any]:
        event = {"type": "station", "station": self.cfg.id, "at_ms": wall_ms(), **result}
        self.last_result = event
        self.results += 1
        self.bus.publish(event)
        return event


def display_line(message: str) -> str:
    """A result's message for a customer display line (the ✓ mark dropped, the display cuts it
    to its width)."""
    return message.removeprefix("✓ ")


def local_day(ms: int) -> tuple[int, int]:
    """The box's local day around `ms`: [midnight, next midnight) in ms."""
    day = datetime.fromtimestamp(ms / 1000).date()
    start = datetime.combine(day, datetime.min.time())
    return int(start.timestamp() * 1000), int((start + timedelta(days=1)).timestamp() * 1000)


def _at(v: object) -> int:
    return v if type(v) is int else wall_ms()
