"""Production tasks and their splits (pure): requests → journal bodies, and the workshop state
folded from the journal's `production_task`, `split` and `handover` records (docs/workshop.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agent.sales import ConflictError
from agent.station import UnknownTaskError
from drivers import InvalidInput
from drivers.label.flowcard import TASK

MAX_PARTS = 9999
MAX_QTY = 9_999_999
"""The most a flow card can carry in one container (drivers/label/flowcard.py)."""
TASK_FIELDS = frozenset({"task_no", "product", "qty", "unit", "route", "due", "split_size",
                         "defect_reasons"})
BATCH = re.compile(r"(?P<task>[0-9A-Z][0-9A-Z.\-]{0,31})#(?P<part>[1-9][0-9]{0,3})/[1-9][0-9]{0,3}")
"""A handover's `batch`: the task, part n and its N as printed on the flow card."""


def _text(raw: Mapping[str, Any], key: str, path: str, hi: int, required: bool = True
          ) -> str | None:
    v = raw.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip() or len(v) > hi or not v.isprintable():
        raise InvalidInput(f"{path}{key}", f"must be text of 1 to {hi} printable characters")
    return v


def _int(raw: Mapping[str, Any], key: str, path: str, lo: int, hi: int,
         default: int | None = None) -> int:
    v = raw.get(key, default)
    if type(v) is not int or not lo <= v <= hi:
        raise InvalidInput(f"{path}{key}", f"must be a whole number from {lo} to {hi}")
    return v


def _route(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= 50:
        raise InvalidInput("route", "must be a list of 1 to 50 steps")
    out: list[dict[str, Any]] = []
    for i, s in enumerate(raw):
        path = f"route[{i}]."
        if not isinstance(s, Mapping):
            raise InvalidInput(f"route[{i}]", "must be an object {step, name, rate_fen}")
        extra = set(s) - {"step", "name", "rate_fen", "outsource", "optional"}
        if extra:
            raise InvalidInput(f"{path}{min(extra)}", "unknown field")
        step = _int(s, "step", path, 0, 10**6)
        if out and step <= out[-1]["step"]:
            raise InvalidInput(f"{path}step", f"must be above {out[-1]['step']} (steps in order)")
        name = _text(s, "name", path, 64)
        rate = _int(s, "rate_fen", path, 0, 10**13, 0)
        step_body: dict[str, Any] = {"step": step, "name": name, "piece_rate": rate}
        for key, mark in (("outsource", "allowed"), ("optional", "yes")):
            flag = s.get(key, False)
            if not isinstance(flag, bool):
                raise InvalidInput(f"{path}{key}", "must be true or false")
            if flag:
                step_body[key] = mark
        out.append(step_body)
    return out


def task_body(raw: object, source: str, ref: str | None = None) -> dict[str, Any]:
    """The `production_task` body of a request (docs/workshop.md); InvalidInput names the field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    extra = set(raw) - TASK_FIELDS
    if extra:
        raise InvalidInput(str(min(extra)), "unknown field")
    no = raw.get("task_no")
    if not isinstance(no, str) or not TASK.fullmatch(no):
        raise InvalidInput("task_no", "must be 1-32 of 0-9, A-Z, '.', '-' starting with a "
                                      "letter or digit (the flow card's QR code carries it)")
    product = raw.get("product")
    if not isinstance(product, Mapping):
        raise InvalidInput("product", "must be an object {code, name, spec}")
    if set(product) - {"code", "name", "spec"}:
        raise InvalidInput(f"product.{min(set(product) - {'code', 'name', 'spec'})}",
                           "unknown field")
    code = _text(product, "code", "product.", 64)
    assert code is not None
    if re.search(r"\s", code):
        raise InvalidInput("product.code", "must not contain spaces")
    body: dict[str, Any] = {"task": no, "product": code,
                            "product_name": _text(product, "name", "product.", 120),
                            "qty": _int(raw, "qty", "", 1, 10**9),
                            "route": _route(raw.get("route"))}
    spec = _text(product, "spec", "product.", 120, required=False)
    if spec is not None:
        body["spec"] = spec
    unit = _text(raw, "unit", "", 16, required=False)
    if unit is not None:
        body["unit"] = unit
    due = raw.get("due")
    if due is not None:
        try:
            if not isinstance(due, str) or len(due) != 10:
                raise ValueError(due)
            date.fromisoformat(due)
        except ValueError:
            raise InvalidInput("due", "must be a calendar day YYYY-MM-DD") from None
        body["due"] = due
    if raw.get("split_size") is not None:
        _int(raw, "split_size", "", 1, MAX_QTY)
    reasons = raw.get("defect_reasons", [])
    if not isinstance(reasons, list) or len(reasons) > 50:
        raise InvalidInput("defect_reasons", "must be a list of at most 50 reasons")
    for i, r in enumerate(reasons):
        if not isinstance(r, str) or not 1 <= len(r) <= 64 or not r.isprintable():
            raise InvalidInput(f"defect_reasons[{i}]", "must be text of 1 to 64 characters")
    body["source"] = source
    if ref is not None:
        body["ref"] = ref
    return body


def quantities(total: int, raw: object) -> list[int]:
    """Split `total` by `{"size": n}` (full containers, then the rest) or `{"parts": [..]}`
    (which must add up to `total`); InvalidInput names the request field."""
    if not isinstance(raw, Mapping) or ("size" in raw) == ("parts" in raw):
        raise InvalidInput("size", "give either size (a container's quantity) or parts "
                                   "(a list of quantities)")
    extra = set(raw) - {"size", "parts", "printer", "print"}
    if extra:
        raise InvalidInput(str(min(extra)), "unknown field")
    if "size" in raw:
        size = _int(raw, "size", "", 1, MAX_QTY)
        full, rest = divmod(total, size)
        out = [size] * full + ([rest] if rest else [])
        if len(out) > MAX_PARTS:
            raise InvalidInput("size", f"{total} in containers of {size} is {len(out)} "
                                       f"containers, more than {MAX_PARTS}")
        return out
    parts = raw["parts"]
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        raise InvalidInput("parts", f"must be a list of 1 to {MAX_PARTS} quantities")
    for i, q in enumerate(parts):
        if type(q) is not int or not 1 <= q <= MAX_QTY:
            raise InvalidInput(f"parts[{i}]", f"must be a whole number from 1 to {MAX_QTY}")
    if sum(parts) != total:
        raise InvalidInput("parts", f"add up to {sum(parts)}, not {total}")
    return list(parts)


@dataclass(frozen=True)
class Done:
    """A handover recorded on a part (and not undone)."""

    seq: int
    step: int
    good: int
    defective: int
    worker: str
    at_ms: int = 0


@dataclass
class Part:
    """One container: its number, quantity, the N printed beside it, handovers recorded on it."""

    part: int
    qty: int
    of: int
    retired: bool = False
    done: list[Done] = field(default_factory=list)
    away: tuple[str, int, int] | None = None
    """(supplier, first step, last step) while the part is out at a supplier (委外)."""

    def passed(self, route: list[dict[str, Any]], step: Mapping[str, Any]) -> int | None:
        """What the last step done before `step` passed on (optional steps may have been
        skipped; None when none was done)."""
        i = next(i for i, s in enumerate(route) if s["step"] == step["step"])
        previous = next((d for s in reversed(route[:i]) if (d := self.at(s["step"]))), None)
        return None if previous is None else previous.good

    @property
    def handovers(self) -> list[int]:
        """The seqs of the handovers on this part that stand (not undone)."""
        return [d.seq for d in self.done]

    def at(self, step: int) -> Done | None:
        """The handover of `step`, if one stands."""
        return next((d for d in self.done if d.step == step), None)

    def json(self) -> dict[str, Any]:
        """What the API shows of the part."""
        return {"part": self.part, "qty": self.qty, "of": self.of, "retired": self.retired,
                "handovers": self.handovers,
                "away": None if self.away is None else {"supplier": self.away[0],
                                                        "step": self.away[1],
                                                        "through": self.away[2]},
                "steps": {str(d.step): {"seq": d.seq, "good": d.good, "defective": d.defective,
                                        "worker": d.worker} for d in self.done}}


@dataclass
class Task:
    """A production task as recorded, with its parts (empty until it is split)."""

    seq: int
    body: dict[str, Any]
    parts: dict[int, Part] = field(default_factory=dict)

    @property
    def of(self) -> int:
        """How many parts have been numbered (live and retired)."""
        return max(self.parts, default=0)

    def live(self) -> list[Part]:
        """The parts not re-split, in number order."""
        return [p for _, p in sorted(self.parts.items()) if not p.retired]

    def json(self) -> dict[str, Any]:
        """What the API shows of the task."""
        return {"seq": self.seq, **self.body, "parts": [p.json() for _, p in
                                                       sorted(self.parts.items())]}


class Workshop:
    """The tasks, parts and handovers of a journal, folded record by record in seq order."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self.handovers: dict[int, Part] = {}
        """Standing handovers on known parts, by seq."""
        self.standing: dict[int, Done] = {}
        self.outs: dict[int, Part] = {}
        """Send-outs to suppliers (委外), by seq."""
        self.backs: dict[int, tuple[Part, tuple[str, int, int]]] = {}
        """Receive-backs, by seq, with the send-out they closed (an undo reopens it)."""
        self.size = 0
        """Records observed (the next seq to observe)."""

    def observe_all(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Observe records from `size` on (earlier ones are skipped)."""
        for r in records:
            if r["seq"] >= self.size:
                self.observe(r["seq"], r["type"], r["body"], r["time"])

    def observe(self, seq: int, type_: str, body: Mapping[str, Any], at_ms: int = 0) -> None:
        """Apply one record (records of other types only advance `size`)."""
        self.size = seq + 1
        if type_ == "production_task":
            self.tasks.setdefault(body["task"], Task(seq, dict(body)))
        elif type_ == "split":
            task = self.tasks.get(body["task"])
            if task is None:
                return
            if "replaces" in body and body["replaces"] in task.parts:
                task.parts[body["replaces"]].retired = True
            for p in body["parts"]:
                task.parts[p["part"]] = Part(p["part"], p["qty"], body["of"])
        elif type_ == "handover":
            m = BATCH.fullmatch(str(body.get("batch", "")))
            task = self.tasks.get(m["task"]) if m else None
            part = task.parts.get(int(m["part"])) if task and m else None
            if part is not None and body.get("outsourced") == "out":
                part.away = (body.get("supplier", body["to_worker"]), body["step"],
                             body.get("through", body["step"]))
                self.outs[seq] = part
            elif part is not None:
                assert task is not None
                if body.get("outsourced") == "back" and part.away is not None:
                    self.backs[seq] = (part, part.away)
                    part.away = None
                bad = sum(d["qty"] for d in body.get("defects", ()))
                last = body.get("through", body["step"])
                covered = [s["step"] for s in task.body["route"]
                           if body["step"] <= s["step"] <= last] or [body["step"]]
                for step in covered:  # a receive-back completes the whole outsourced range
                    done = Done(seq, step, body["qty"], bad if step == covered[-1] else 0,
                                body["from_worker"], at_ms)
                    part.done.append(done)
                self.handovers[seq] = part
                self.standing[seq] = done
        elif type_ == "handover_undo":
            self.standing.pop(body["handover_seq"], None)
            sent = self.outs.pop(body["handover_seq"], None)
            if sent is not None:
                sent.away = None
            back = self.backs.pop(body["handover_seq"], None)
            if back is not None:  # undoing a receive-back puts the part at its supplier again
                back[0].away = back[1]
            undone = self.handovers.pop(body["handover_seq"], None)
            if undone is not None:
                undone.done = [d for d in undone.done if d.seq != body["handover_seq"]]

    def good_by(self, worker: str, start_ms: int, end_ms: int) -> int:
        """Good pieces `worker` handed over (standing) with record time in [start, end)."""
        return sum(d.good for d in self.standing.values()
                   if d.worker == worker and start_ms <= d.at_ms < end_ms)

    def split_body(self, no: str, raw: object) -> dict[str, Any]:
        """The first `split` of task `no`; ConflictError if it is split already."""
        task = self.task(no)
        if task.parts:
            raise ConflictError("task_no", f"task {no} is split already; re-split one "
                                                  "of its parts instead")
        qs = quantities(task.body["qty"], raw)
        return {"task": no, "of": len(qs),
                "parts": [{"part": i + 1, "qty": q} for i, q in enumerate(qs)]}

    def resplit_body(self, no: str, n: int, raw: object) -> dict[str, Any]:
        """A re-split of part `n`: only a live part without handovers; new parts add up to it."""
        task = self.task(no)
        part = task.parts.get(n)
        if part is None:
            raise UnknownTaskError("part", f"task {no} has no part {n}")
        if part.retired:
            raise ConflictError("part", f"part {n} of task {no} was re-split already")
        if part.away is not None:
            raise ConflictError("part", f"part {n} of task {no} is at supplier {part.away[0]}; "
                                        "it cannot be re-split")
        if part.handovers:
            raise ConflictError("part", f"part {n} of task {no} has handovers "
                                               f"(record {part.handovers[0]}); it cannot be "
                                               "re-split")
        qs = quantities(part.qty, raw)
        if len(qs) < 2:
            raise InvalidInput("parts", "a re-split makes at least 2 parts")
        first = task.of + 1
        if first + len(qs) - 1 > MAX_PARTS:
            raise InvalidInput("parts", f"a task has at most {MAX_PARTS} parts")
        return {"task": no, "of": first + len(qs) - 1, "replaces": n,
                "parts": [{"part": first + i, "qty": q} for i, q in enumerate(qs)]}

    def task(self, no: str) -> Task:
        """Task `no`; InvalidInput (404-like, field `task_no`) if there is none."""
        task = self.tasks.get(no)
        if task is None:
            raise UnknownTaskError("task_no", f"no production task {no}")
        return task
