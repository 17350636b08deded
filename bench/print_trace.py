"""The cloud print path stage by stage, from the hand-over marks the processes wrote
(sync.latency_trace) and the bench's own send times: median and p99 of each step, and what the
slowest jobs spent where."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.rows import pct

CHAIN: tuple[tuple[str, str, str], ...] = (
    ("hq", "hq.request", "bench client → HQ's outer middleware"),
    ("hq", "hq.handler", "HQ middlewares → handler"),
    ("hq", "hq.parsed", "HQ: body read and checked"),
    ("hq", "hq.stored", "HQ: job stored (durable commit)"),
    ("hq", "mqtt.publish", "HQ: publish called"),
    ("hq", "mqtt.written", "HQ: written to its socket"),
    ("box", "mqtt.message", "broker → box read it"),
    ("box", "box.loop", "box: off the session's queue"),
    ("box", "box.intake", "box: dispatch parsed"),
    ("box", "box.checked", "box: job rendered to check it (inline if small, else a thread)"),
    ("box", "queue.commit", "box: queue entry + claim committed"),
    ("box", "worker.step", "box: worker woken"),
    ("box", "worker.status", "box: printer status asked (DLE EOT)"),
    ("box", "worker.rendered", "box: the bytes (handed over, else rendered on the device thread)"),
    ("box", "worker.written", "box: written to the printer"),
)
"""(process, mark, what the step from the previous mark is), in the order a job meets them."""

SIDE: tuple[tuple[str, str, str], ...] = (
    ("hq", "hq.puback", "HQ: PUBACK back"),
    ("hq", "hq.dispatched", "HQ: `dispatched` committed"),
    ("hq", "hq.answer", "HQ: answer ready"),
    ("box", "box.queued", "box: submit returned"),
    ("box", "box.answered", "box: intake answer committed"),
    ("box", "box.ack", "box: PUBACK queued"),
)
"""Marks beside the path, shown as their time after the bench sent the job."""


@dataclass(frozen=True)
class Job:
    """One job: when the bench sent it, when the printer logged it (unix seconds)."""

    sent: float
    printed: float


def read_marks(path: Path, roles: dict[int, str]) -> list[tuple[float, str]]:
    """(unix seconds, "role:stage") of every mark, in time order."""
    out = []
    for line in path.read_text(encoding="ascii").splitlines():
        ns, pid, stage = line.split()
        out.append((int(ns) / 1e9, f"{roles.get(int(pid), pid)}:{stage}"))
    out.sort()
    return out


def per_job(marks: list[tuple[float, str]], jobs: Sequence[Job]) -> list[dict[str, float]]:
    """For each job, the time in ms after it was sent of each chain mark (each the first after
    the one before it) and of each side mark (the first after sending), and the printer's."""
    out = []
    i = 0
    for k, job in enumerate(jobs):
        end = jobs[k + 1].sent if k + 1 < len(jobs) else float("inf")
        while i < len(marks) and marks[i][0] < job.sent:
            i += 1
        window = []
        j = i
        while j < len(marks) and marks[j][0] < end:
            window.append(marks[j])
            j += 1
        got: dict[str, float] = {}
        at = job.sent
        for role, stage, _ in CHAIN:
            key = f"{role}:{stage}"
            hit = next((t for t, s in window if s == key and t >= at), None)
            if hit is None:
                break
            got[key] = (hit - job.sent) * 1000
            at = hit
        for role, stage, _ in SIDE:
            key = f"{role}:{stage}"
            hit = next((t for t, s in window if s == key), None)
            if hit is not None:
                got[key] = (hit - job.sent) * 1000
        got["printer"] = (job.printed - job.sent) * 1000
        out.append(got)
    return out


def report(rows: list[dict[str, float]]) -> str:
    """The stage table (median and p99 of each step) and the slowest jobs' largest steps."""
    lines = [f"{'step (from the mark before)':46} {'p50 ms':>8} {'p99 ms':>8}"]
    prev = None
    steps: dict[str, list[float]] = {}
    names = [f"{r}:{s}" for r, s, _ in CHAIN] + ["printer"]
    labels = [w for _, _, w in CHAIN] + ["box → the printer logged the cut"]
    for name, label in zip(names, labels, strict=True):
        d = [r[name] - (r[prev] if prev else 0.0) for r in rows
             if name in r and (prev is None or prev in r)]
        steps[name] = d
        if d:
            lines.append(f"{label:46} {statistics.median(d):8.2f} {pct(d, 99):8.2f}")
        prev = name
    lines.append(f"{'beside the path (ms after the bench sent)':46}")
    for role, stage, label in SIDE:
        d = [r[f"{role}:{stage}"] for r in rows if f"{role}:{stage}" in r]
        if d:
            lines.append(f"  {label:44} {statistics.median(d):8.2f} {pct(d, 99):8.2f}")
    total = sorted(rows, key=lambda r: r["printer"])
    lines.append("slowest jobs: total, then their three largest steps")
    for r in total[-max(1, len(rows) // 100):]:
        prev_t = 0.0
        parts = []
        for name, label in zip(names, labels, strict=True):
            if name not in r:
                continue
            parts.append((r[name] - prev_t, label))
            prev_t = r[name]
        parts.sort(reverse=True)
        lines.append(f"  {r['printer']:7.1f} ms: " + "; ".join(f"{label} {d:.1f}"
                                                            for d, label in parts[:3]))
    return "\n".join(lines)
