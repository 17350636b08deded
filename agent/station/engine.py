"""The station's rules (pure): pair a flow card with a worker's badge inside the window, and
decide the handover at the station's step or refuse it with a Chinese message (docs/workshop.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from agent.station.config import MAX_DEFECT_QTY, UNDO_CODE, StationConfig
from agent.station.tasks import Part, Task, Workshop
from drivers import InvalidInput
from drivers.label.flowcard import FlowCard, parse_flow_card

Kind = Literal["card", "worker", "supplier", "supervisor", "undo", "bad_card", "unknown",
               "defect_reason", "defect_qty"]
DEFECT = re.compile(r"SLD(?P<what>[RQ]):(?P<n>[1-9][0-9]{0,1})")
SUPPLIER = re.compile(r"SLSUP:(?P<id>[0-9A-Z][0-9A-Z.\-]{0,31})(?::(?P<through>[0-9]{1,7}))?")
"""A supplier's code (委外供应商卡): scanned instead of a badge to send a container out to the
supplier (for the due step, or through step `:<through>`), or to receive it back."""


@dataclass(frozen=True)
class Scan:
    """One scan at a station, classified: a flow card, a worker's badge, the undo code, …"""

    kind: Kind
    at_ms: int
    card: FlowCard | None = None
    who: str = ""
    why: str = ""
    through: int | None = None
    """A supplier's code: the last step of the outsourced range."""


def classify(code: str, at_ms: int) -> Scan:
    """A scanned code that is not a configured badge: a flow card, the undo code, or neither."""
    text = code.strip()
    if text.upper() == UNDO_CODE:
        return Scan("undo", at_ms)
    defect = DEFECT.fullmatch(text.upper())
    if defect is not None and (defect["what"] == "R" or int(defect["n"]) <= MAX_DEFECT_QTY):
        return Scan("defect_reason" if defect["what"] == "R" else "defect_qty", at_ms,
                    who=defect["n"])
    supplier = SUPPLIER.fullmatch(text.upper())
    if supplier is not None:
        through = supplier["through"]
        return Scan("supplier", at_ms, who=supplier["id"],
                    through=None if through is None else int(through))
    try:
        return Scan("card", at_ms, card=parse_flow_card(text))
    except InvalidInput as e:
        if text.upper().startswith("SLFC"):
            return Scan("bad_card", at_ms, why=e.reason)
        return Scan("unknown", at_ms)


@dataclass(frozen=True)
class Refusal:
    """A scan refused: the one-line Chinese reason shown to the worker; nothing is recorded."""

    message: str


@dataclass(frozen=True)
class Waiting:
    """Half a pair: what was scanned and what is expected next."""

    message: str


@dataclass(frozen=True)
class Pair:
    """A flow card and a worker's badge scanned within the window."""

    card: FlowCard
    worker: str
    supplier: bool = False
    defects: tuple[tuple[str, int], ...] = ()
    through: int | None = None


class Pairing:
    """The half-pair a station holds between scans (either order, within `window_s`)."""

    def __init__(self, cfg: StationConfig) -> None:
        self.cfg = cfg
        self.card: tuple[FlowCard, int] | None = None
        self.worker: tuple[str, int, bool, int | None] | None = None
        self.defects: dict[str, int] = {}
        self.reason: str | None = None
        self.touched = 0

    def _fresh(self, at_ms: int) -> None:
        limit = int(self.cfg.window_s * 1000)
        if self.card is not None and not 0 <= at_ms - self.card[1] <= limit:
            self.card = None
        if self.worker is not None and not 0 <= at_ms - self.worker[1] <= limit:
            self.worker = None
        if not 0 <= at_ms - self.touched <= limit:
            self.defects, self.reason = {}, None

    def feed(self, scan: Scan) -> Refusal | Waiting | Pair | None:
        """The outcome of one scan; None for kinds the caller handles (undo, supervisor)."""
        self._fresh(scan.at_ms)
        if scan.kind == "bad_card":
            return Refusal(f"流转卡无法识别（污损或不是本系统的卡）：{scan.why}")
        if scan.kind == "unknown":
            return Refusal("无法识别的条码：不是流转卡，也不是已登记的工牌")
        if scan.kind in ("defect_reason", "defect_qty"):
            return self._defect(scan)
        if scan.kind == "card" and scan.card is not None:
            self.card = (scan.card, scan.at_ms)
        elif scan.kind in ("worker", "supplier"):
            self.worker = (scan.who, scan.at_ms, scan.kind == "supplier", scan.through)
        else:
            return None
        if self.card is not None and self.worker is not None:
            pair = Pair(self.card[0], self.worker[0], self.worker[2],
                        tuple(self.defects.items()), self.worker[3])
            self.card = self.worker = None
            self.defects, self.reason = {}, None
            return pair
        if self.card is not None:
            c = self.card[0]
            return Waiting(f"已扫流转卡 {c.task} {c.split}/{c.of}，请刷工牌")
        assert self.worker is not None
        if self.worker[2]:
            return Waiting(f"委外供应商 {self.worker[0]}，请扫流转卡")
        return Waiting(f"工牌 {self.worker[0]}，请扫流转卡")

    def _defect(self, scan: Scan) -> Refusal | Waiting:
        n = int(scan.who)
        if scan.kind == "defect_reason":
            if not 1 <= n <= len(self.cfg.defect_reasons):
                return Refusal(f"不良原因码 {n} 没有配置")
            self.reason, self.touched = self.cfg.defect_reasons[n - 1], scan.at_ms
            return Waiting(f"不良原因：{self.reason}，请扫数量")
        if self.reason is None:
            return Refusal("请先扫不良原因，再扫数量")
        self.defects[self.reason] = self.defects.get(self.reason, 0) + n
        self.touched = scan.at_ms
        listed = "、".join(f"{r} {q} 件" for r, q in self.defects.items())
        return Waiting(f"不良：{listed}；请扫流转卡和工牌")


def locate(ws: Workshop, card: FlowCard) -> tuple[Task, Part] | Refusal:
    """The recorded task and live part of `card`, or the Refusal of a foreign or void card."""
    task = ws.tasks.get(card.task)
    part = task.parts.get(card.split) if task is not None else None
    if task is None or part is None or part.of != card.of or part.qty != card.qty:
        return Refusal(f"不是本车间的流转卡：任务 {card.task} {card.split}/{card.of} 没有登记")
    if part.retired:
        return Refusal(f"这张流转卡已作废（{card.split}/{card.of} 已重新拆分），请用新卡")
    return task, part


def due_step(task: Task, part: Part, steps: tuple[int, ...], station: bool = True
             ) -> tuple[dict[str, Any], int] | Refusal:
    """The route step of `steps` the part is due for and what the step before it passed (the
    part's quantity at the first step), or the Refusal of the broken order rule."""
    route, no = task.body["route"], task.body["task"]
    if part.away is not None:
        return Refusal(f"该容器在委外供应商 {part.away[0]} 处（{_span(part.away)}），"
                       "尚未收回")
    mine = [s for s in route if s["step"] in steps]
    if not mine:
        if station:
            return Refusal(f"本工位的工序不在任务 {no} 的工艺路线上")
        return Refusal(f"工序 {steps[0]} 不在任务 {no} 的工艺路线上")
    if all(part.at(s["step"]) is not None for s in mine):
        s = mine[-1]
        return Refusal(f"该容器已在 {s['step']} {s['name']} 交接过，不能重复交接")
    # The first step not done that is this station's; optional steps of others are skipped.
    for due in (s for s in route if part.at(s["step"]) is None):
        if due["step"] in steps:
            break
        if due.get("optional") != "yes":
            here = "、".join(f"{s['step']} {s['name']}" for s in mine)
            where = "本工位是" if station else "这次登记的是"
            return Refusal(f"工序顺序不对：该容器下一道是 {due['step']} {due['name']}，"
                           f"{where} {here}")
    later = next((s for s in route if s["step"] > due["step"] and part.at(s["step"])), None)
    if later is not None:
        return Refusal(f"可选工序 {due['step']} {due['name']} 已跳过：该容器已在 {later['step']} "
                       f"{later['name']} 交接过")
    passed = part.passed(route, due)
    return due, part.qty if passed is None else passed


def decide(ws: Workshop, card: FlowCard, worker: str, steps: tuple[int, ...],
           supplier: bool = False, defects: tuple[tuple[str, int], ...] = (),
           through: int | None = None) -> dict[str, Any] | Refusal:
    """The `handover` body for `card` at the first of `steps` the part is due for, the whole
    container good (with a supplier: the send-out through step `through`, or the receive-back
    that completes the outsourced steps); or the Refusal naming the broken rule."""
    found = locate(ws, card)
    if isinstance(found, Refusal):
        return found
    task, part = found
    route = task.body["route"]
    if part.away is not None and supplier and worker == part.away[0]:
        return _back(task, part, card, worker, steps, defects)
    due = due_step(task, part, steps)
    if isinstance(due, Refusal):
        return due
    step, passed = due
    if supplier:
        span = _outsourced(route, step, step["step"] if through is None else through)
        if isinstance(span, Refusal):
            return span
        if defects:
            return Refusal("委外发出不记不良：收回时再扫不良")
        extra: dict[str, Any] = {"supplier": worker, "outsourced": "out", "piece_rate": 0}
        if span[-1]["step"] != step["step"]:
            extra["through"] = span[-1]["step"]
        return _body(card, passed, step, "-", worker, task.body["product"], extra)
    bad = sum(q for _, q in defects)
    if bad > passed:
        return Refusal(f"合格 + 不良超过上道工序交出的 {passed} 件（不良 {bad} 件）")
    extra = {"piece_rate": step["piece_rate"]}
    if defects:
        extra["defects"] = [{"reason": r, "qty": q} for r, q in defects]
    return _body(card, passed - bad, step, worker, "-", task.body["product"], extra)


def _back(task: Task, part: Part, card: FlowCard, supplier: str, steps: tuple[int, ...],
          defects: tuple[tuple[str, int], ...]) -> dict[str, Any] | Refusal:
    """The receive-back: at a station of any of the outsourced steps, the whole container."""
    assert part.away is not None
    _, first, last = part.away
    route = task.body["route"]
    if not any(first <= s <= last for s in steps):
        return Refusal(f"该容器委外的是{_span(part.away)}，请在该工序的工位收回")
    s = next(s for s in route if s["step"] == first)
    came = part.passed(route, s)
    came = part.qty if came is None else came
    bad = sum(q for _, q in defects)
    if bad > came:
        return Refusal(f"合格 + 不良超过发出的 {came} 件（不良 {bad} 件）")
    extra: dict[str, Any] = {"supplier": supplier, "outsourced": "back", "piece_rate": 0}
    if last != first:
        extra["through"] = last
    if defects:
        extra["defects"] = [{"reason": r, "qty": q} for r, q in defects]
    return _body(card, came - bad, s, supplier, "-", task.body["product"], extra)


def _outsourced(route: list[dict[str, Any]], first: dict[str, Any], last: int
                ) -> list[dict[str, Any]] | Refusal:
    """The route steps from `first` through step `last`, each of which must allow outsourcing."""
    span = [s for s in route if first["step"] <= s["step"] <= last]
    if last < first["step"] or all(s["step"] != last for s in route):
        return Refusal(f"委外截止工序 {last} 不在 {first['step']} {first['name']} 之后的工艺路线上")
    for s in span:
        if s.get("outsource") != "allowed":
            return Refusal(f"工序 {s['step']} {s['name']} 不允许委外")
    return span


def _span(away: tuple[str, int, int]) -> str:
    """`工序 30` or `工序 30–40` for an outsourced range."""
    _, first, last = away
    return f"工序 {first}" if first == last else f"工序 {first}–{last}"


def _body(card: FlowCard, good: int, step: dict[str, Any], giver: str, taker: str,
          product: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"task": card.task, "batch": f"{card.task}#{card.split}/{card.of}",
            "step": step["step"], "step_name": step["name"], "from_worker": giver,
            "to_worker": taker, "qty": good, "product": product, **extra}


def judge(ws: Workshop, card: FlowCard, body: Mapping[str, Any], workers: frozenset[str]
          ) -> dict[str, Any] | tuple[str, str]:
    """A `handover` body made by `POST /v1/handovers` under the station's rules: the body with
    its step's name, product and piece rate from the route, or (request field, Chinese reason)
    of the broken rule (an unknown card or worker, order, twice, too many, away at a supplier,
    a rate or name other than the route's)."""
    found = locate(ws, card)
    if isinstance(found, Refusal):
        return "flow_card", found.message
    task, part = found
    if workers and body["from_worker"] not in workers:
        return "worker", f"无法识别的工牌：{body['from_worker']} 不是已登记的工人"
    due = due_step(task, part, (body["step"],), station=False)
    if isinstance(due, Refusal):
        return "step", due.message
    step, passed = due
    bad = sum(d["qty"] for d in body.get("defects", ()))
    if body["qty"] + bad > passed:
        return "good", (f"合格 + 不良超过上道工序交出的 {passed} 件（合格 {body['qty']} 件，"
                        f"不良 {bad} 件）")
    route = {"step_name": step["name"], "product": task.body["product"],
             "piece_rate": step["piece_rate"]}
    for key, want in route.items():
        if key in body and body[key] != want:
            no = task.body["task"]
            return key, f"与任务 {no} 的工艺路线不符：工序 {step['step']} 应为 {want}"
    return {**body, **route}
