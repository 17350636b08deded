"""Workshop figures from verified journal records (pure): progress per production task and
part, and piece counts per worker and day (docs/hq.md §Workshop).

`Tally.feed` takes one box's records in seq order; a `handover_undo` takes its handover out of
every figure (corrected by the reversing record, never by editing). Piece amounts are good
pieces × the piece rate the handover carries, in fen.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from hq import HqError

CHINA = timezone(timedelta(hours=8))
"""Workdays are dates in China Standard Time."""
BATCH = re.compile(r"(?P<task>[0-9A-Z][0-9A-Z.\-]{0,31})#(?P<part>[1-9][0-9]{0,3})/[1-9][0-9]{0,3}")


class WorkshopError(HqError):
    """Records were fed out of order."""


def china_day(ms: int) -> str:
    """The China date of a box time in ms."""
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Handed:
    """One standing handover."""

    seq: int
    day: str
    task: str
    part: int | None
    step: int
    step_name: str
    worker: str
    good: int
    defects: tuple[tuple[str, int], ...]
    rate: int
    supplier: str | None = None
    """Set when the step was done outside (委外): received back from this supplier."""
    through: int | None = None
    """A receive-back of an outsourced range: its last step (the handover completes `step`
    through `through`; its defects count at the last)."""

    @property
    def defective(self) -> int:
        """Defective pieces of this handover."""
        return sum(q for _, q in self.defects)

    @property
    def last(self) -> int:
        """The last route step this handover completes."""
        return self.step if self.through is None else self.through

    def covers(self, step: int) -> bool:
        """Whether this handover completes `step`."""
        return self.step <= step <= self.last


@dataclass
class TaskState:
    """A production task as recorded, and its parts: number → [qty, of, retired]."""

    body: Mapping[str, Any]
    parts: dict[int, list[int]] = field(default_factory=dict)


class Tally:
    """One box's workshop records, folded in seq order."""

    def __init__(self, box: str) -> None:
        self.box = box
        self.size = 0
        self.tasks: dict[str, TaskState] = {}
        self.handed: dict[int, Handed] = {}
        self.away: dict[int, tuple[str, int | None, str, int, int]] = {}
        """Send-outs not yet received back, by seq: (task, part, supplier, first, last step)."""
        self.backs: dict[int, tuple[int, tuple[str, int | None, str, int, int]]] = {}
        """Receive-backs, by seq: the send-out they closed (its undo reopens it)."""

    def feed(self, record: Mapping[str, Any]) -> None:
        """Apply the next record (every type advances `size`; others change nothing)."""
        if record["seq"] != self.size:
            raise WorkshopError(f"box {self.box}: expected seq {self.size}, got {record['seq']}")
        self.size += 1
        t, b = record["type"], record["body"]
        if t == "production_task":
            self.tasks.setdefault(b["task"], TaskState(b))
        elif t == "split" and b["task"] in self.tasks:
            parts = self.tasks[b["task"]].parts
            if "replaces" in b and b["replaces"] in parts:
                parts[b["replaces"]][2] = 1
            for p in b["parts"]:
                parts[p["part"]] = [p["qty"], b["of"], 0]
        elif t == "handover" and b.get("outsourced") == "out":
            m = BATCH.fullmatch(str(b.get("batch", "")))
            self.away[record["seq"]] = (b["task"], int(m["part"]) if m else None,
                                        b.get("supplier", b["to_worker"]), b["step"],
                                        b.get("through", b["step"]))
        elif t == "handover":
            m = BATCH.fullmatch(str(b.get("batch", "")))
            if b.get("outsourced") == "back":
                for seq, sent in list(self.away.items()):
                    if (sent[0], sent[3]) == (b["task"], b["step"]) and m \
                            and sent[1] == int(m["part"]):
                        self.backs[record["seq"]] = (seq, self.away.pop(seq))
            self.handed[record["seq"]] = Handed(
                record["seq"], china_day(record["time"]), b["task"],
                int(m["part"]) if m and m["task"] == b["task"] else None, b["step"],
                b.get("step_name", ""), b["from_worker"], b["qty"],
                tuple((d["reason"], d["qty"]) for d in b.get("defects", ())),
                b.get("piece_rate", 0),
                b.get("supplier", b["from_worker"]) if b.get("outsourced") == "back" else None,
                b.get("through"))
        elif t == "handover_undo":
            self.handed.pop(b["handover_seq"], None)
            self.away.pop(b["handover_seq"], None)
            back = self.backs.pop(b["handover_seq"], None)
            if back is not None:  # the container is at its supplier again
                self.away[back[0]] = back[1]

    # --- figures -----------------------------------------------------------------------------

    def progress(self, today: str) -> list[dict[str, Any]]:
        """Every task: per step good / defective / defects by reason, per part where it is,
        the finished quantity (good at the last step) and whether it is late."""
        by_task: dict[str, list[Handed]] = defaultdict(list)
        for h in self.handed.values():
            by_task[h.task].append(h)
        out: list[dict[str, Any]] = []
        for no, ts in self.tasks.items():
            route = ts.body["route"]
            rows = by_task.get(no, [])
            steps = []
            for s in route:
                here = [h for h in rows if h.covers(s["step"])]
                # An outsourced range's defects count once, at its last step.
                flawed = [h for h in here if h.last == s["step"]]
                reasons: dict[str, int] = defaultdict(int)
                for h in flawed:
                    for reason, q in h.defects:
                        reasons[reason] += q
                steps.append({"step": s["step"], "name": s["name"],
                              "good": sum(h.good for h in here),
                              "defective": sum(h.defective for h in flawed),
                              "defects": dict(sorted(reasons.items())),
                              "containers": len(here)})
            finished = 0
            parts = []
            away = {part: (supplier, first, last) for task, part, supplier, first, last
                    in self.away.values() if task == no}
            good_at: dict[int | None, dict[int, int]] = defaultdict(dict)
            for h in rows:
                good_at[h.part].update((s["step"], h.good) for s in route if h.covers(s["step"]))
            for n, (qty, of, retired) in sorted(ts.parts.items()):
                done = good_at.get(n, {})
                last = next((s for s in reversed(route) if s["step"] in done), None)
                due = next_step(route, done)
                # Done when every step the route does not mark optional is done.
                over = all(s["step"] in done or s.get("optional") == "yes" for s in route)
                if over and last is not None and not retired:
                    finished += done[last["step"]]
                parts.append({"part": n, "qty": qty, "of": of, "retired": bool(retired),
                              "at_step": last["step"] if last else None,
                              "at_step_name": last["name"] if last else None,
                              "next_step": due["step"] if due and not over else None,
                              "finished": over,
                              "at_supplier": away[n][0] if n in away else None,
                              "at_supplier_steps": list(away[n][1:]) if n in away else None})
            due_day = ts.body.get("due")
            out.append({"box": self.box, "task": no, "product": ts.body["product"],
                        "product_name": ts.body["product_name"], "qty": ts.body["qty"],
                        "due": due_day, "finished": finished,
                        "late": due_day is not None and due_day < today
                        and finished < ts.body["qty"],
                        "steps": steps, "parts": parts})
        return out

    def pieces(self, day: str | None) -> list[dict[str, Any]]:
        """Good pieces per worker, day, task and step (of `day`, or every day), with defects
        beside them and the amount = good × piece rate (fen)."""
        acc: dict[tuple[str, str, str, int, int], list[Any]] = {}
        for h in sorted(self.handed.values(), key=lambda h: h.seq):
            if (day is not None and h.day != day) or h.supplier is not None:
                continue
            key = (h.day, h.worker, h.task, h.step, h.rate)
            row = acc.setdefault(key, [h.step_name, 0, 0])
            row[1] += h.good
            row[2] += h.defective
        return [{"box": self.box, "day": d, "worker": w, "task": t, "step": s, "step_name": n,
                 "good": g, "defective": bad, "piece_rate": r, "amount": g * r}
                for (d, w, t, s, r), (n, g, bad) in sorted(acc.items())]


def next_step(route: list[dict[str, Any]], done: Mapping[int, int]) -> dict[str, Any] | None:
    """The first route step not done, passing over optional steps skipped by a later one."""
    for i, s in enumerate(route):
        if s["step"] in done:
            continue
        skipped = s.get("optional") == "yes" and any(t["step"] in done for t in route[i + 1:])
        if not skipped:
            return s
    return None
