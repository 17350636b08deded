"""The clearing of one business day (pure): per box, per store line and consolidated, the money
per channel from the signed day closes, the flags that keep a store apart, and the adjustments
for records that reached HQ after their day was cleared (docs/hq.md §Clearing)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hq.clearing.ledger import CHANNEL_NAMES, CHANNELS, BoxBook
from hq.settlement.book import china_day

FLAG_NAMES = {"not_closed": "未日结", "gap": "缺失", "fork": "分叉", "behind": "未同步",
              "mismatch": "不一致"}
ALARM_KINDS = ("gap", "fork")


@dataclass(frozen=True)
class Checkpoint:
    """The cosigned position of a box's journal a figure rests on."""

    size: int
    head: str
    """Hex hash of the last record (empty for an empty journal)."""
    cosigned_ms: int | None

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {"size": self.size, "head": self.head, "cosigned_ms": self.cosigned_ms}


@dataclass(frozen=True)
class BoxInput:
    """One box as clearing sees it: its journal at HQ, the checkpoint, its journal alarms
    (kind, seq), and how many records the box last reported holding (None: unknown)."""

    book: BoxBook
    checkpoint: Checkpoint
    alarms: tuple[tuple[str, int], ...] = ()
    reported_size: int | None = None


@dataclass(frozen=True)
class LineSpec:
    """A line of the clearing: a configured store, or a box in no store (`store` False)."""

    id: str
    name: str
    region: str
    boxes: tuple[str, ...]
    store: bool = True


def _zero() -> dict[str, int]:
    return dict.fromkeys(CHANNELS, 0)


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def _flag(box: str, code: str, reason: str) -> dict[str, str]:
    return {"box": box, "code": code, "name": FLAG_NAMES[code], "reason": reason}


def _alarm_flags(b: BoxInput, day: str) -> list[dict[str, str]]:
    """Gap and fork alarms that touch `day` (one flag per kind): a healed one flags the day of
    the first close past it; an open one every day from the last thing HQ holds below it that
    no earlier close settled."""
    book = b.book
    hits: dict[str, list[int]] = {}
    for kind, seq in sorted(set(b.alarms)):
        after = [s for s in book.closes if s.close_seq is not None and s.close_seq >= seq]
        if after:
            hit = after[0].day == day
        else:
            since = book.last_day_below(seq) or (
                china_day(book.genesis_ms) if book.genesis_ms is not None else day)
            closed_before = any(s.day == day and s.close_seq is not None and s.close_seq < seq
                                for s in book.closes)
            hit = day >= since and not closed_before
        if hit:
            hits.setdefault(kind, []).append(seq)
    out = []
    for kind, seqs in sorted(hits.items()):
        what = "HQ 收到不连续的记录" if kind == "gap" else "与 HQ 已会签的记录不一致"
        where = "、".join(str(s) for s in seqs[:5]) + ("…" if len(seqs) > 5 else "")
        out.append(_flag(book.box, kind, f"{FLAG_NAMES[kind]}：seq {where} 处{what}"
                                         f"（{kind} 告警），当日数据不完整"))
    return out


def box_day(b: BoxInput, day: str) -> dict[str, Any]:
    """One box's figures and flags for `day`: closed (reconciled) channels, the money no
    close covers yet, the closes it rests on."""
    book = b.book
    closes = [s for s in book.closes if s.day == day]
    channels = _zero()
    for s in closes:
        _add(channels, {m.method: m.net for m in s.methods})
    unclosed = _zero()
    loose: list[int] = []
    for m in book.money:
        if m.provisional_day == day and book.close_of(m.seq) is None:
            _add(unclosed, m.channels)
            loose.append(m.seq)
    flags = []
    if loose:
        flags.append(_flag(book.box, "not_closed",
                           f"未日结：{len(loose)} 笔收款记录（seq {loose[0]}–{loose[-1]}）"
                           "没有日结覆盖"))
    flags += _alarm_flags(b, day)
    if b.reported_size is not None and b.reported_size > book.size:
        since = book.last_day_below(book.size)
        if since is None or day >= since:
            flags.append(_flag(book.box, "behind", f"未同步：盒子报告日志 {b.reported_size} 条，"
                                                   f"HQ 仅有 {book.size} 条"))
    for s in closes:
        for d in s.differences:
            flags.append(_flag(book.box, "mismatch",
                               f"不一致：Z{s.z} 的 {d.field} HQ 计 {d.hq}，日结签名为 {d.box}"))
        if s.day_problem is not None:
            flags.append(_flag(book.box, "mismatch", f"不一致：Z{s.z} {s.day_problem}"))
    return {"box": book.box, "checkpoint": b.checkpoint.to_json(), "channels": channels,
            "total": sum(channels.values()), "unclosed": unclosed, "unclosed_seqs": loose,
            "closes": [{"z": s.z, "from_seq": s.from_seq, "to_seq": s.to_seq,
                        "close_seq": s.close_seq, "matched": s.matched} for s in closes],
            "flags": flags}


def mismatched_closes(result: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(box, z) of every day close a clearing result flags 不一致 (its figures differ from
    HQ's)."""
    return sorted({(str(r["box"]), int(c["z"])) for ln in result.get("lines", ())
                   for r in ln["boxes"] for c in r["closes"] if not c["matched"]})


def _line(spec: LineSpec, boxes: Mapping[str, BoxInput], day: str) -> dict[str, Any]:
    rows = [box_day(boxes[b], day) for b in spec.boxes if b in boxes]
    channels = _zero()
    unclosed = _zero()
    for r in rows:
        _add(channels, r["channels"])
        _add(unclosed, r["unclosed"])
    flags = [f for r in rows for f in r["flags"]]
    return {"store": spec.id, "name": spec.name, "region": spec.region,
            "kind": "store" if spec.store else "box", "box_ids": list(spec.boxes),
            "boxes": rows, "channels": channels,
            "total": sum(channels.values()), "unclosed": unclosed, "flags": flags,
            "flagged": bool(flags)}


def _busy(ln: Mapping[str, Any]) -> bool:
    """Whether a box-in-no-store line has anything on the day (else it is left out)."""
    return bool(ln["flags"] or any(ln["unclosed"].values())
                or any(r["closes"] for r in ln["boxes"]))


def _sum_lines(lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    channels = _zero()
    ids = []
    for ln in lines:
        _add(channels, ln["channels"])
        ids.append(ln["store"])
    return {"channels": channels, "total": sum(channels.values()), "stores": ids}


def adjustments(boxes: Mapping[str, BoxInput], line_of: Mapping[str, str],
                since: Mapping[str, int], cleared: frozenset[str]) -> list[dict[str, Any]]:
    """Money records between each box's last run checkpoint (`since`) and now whose business
    day was already cleared: one line per (day, store, box, channel) with the records' seqs."""
    grouped: dict[tuple[str, str, str, str], tuple[int, list[int]]] = {}
    for box, b in sorted(boxes.items()):
        start = since.get(box, 0)
        for m in b.book.money:
            if not start <= m.seq < b.checkpoint.size:
                continue
            d, _closed = b.book.day_of(m)
            if d not in cleared:
                continue
            for ch, amount in m.channels.items():
                key = (d, line_of.get(box, box), box, ch)
                delta, seqs = grouped.get(key, (0, []))
                grouped[key] = (delta + amount, [*seqs, m.seq])
    return [{"day": d, "store": store, "box": box, "channel": ch,
             "channel_name": CHANNEL_NAMES.get(ch, ch), "delta": delta, "seqs": seqs,
             "checkpoint": boxes[box].checkpoint.to_json()}
            for (d, store, box, ch), (delta, seqs) in sorted(grouped.items())]


def clear(day: str, specs: Sequence[LineSpec], boxes: Mapping[str, BoxInput],
          since: Mapping[str, int], cleared: frozenset[str]) -> dict[str, Any]:
    """The clearing of `day`: lines (flagged ones apart), the consolidated total of the
    unflagged lines, and adjustments to days in `cleared` (each box from seq `since[box]`)."""
    lines = [_line(s, boxes, day) for s in specs]
    lines = [ln for ln in lines if ln["kind"] == "store" or _busy(ln)]
    line_of = {b: s.id for s in specs for b in s.boxes}
    adj = adjustments(boxes, line_of, since, cleared)
    adj_total = _zero()
    for a in adj:
        _add(adj_total, {a["channel"]: a["delta"]})
    return {"day": day, "channels": [{"id": c, "name": CHANNEL_NAMES[c]} for c in CHANNELS],
            "lines": lines,
            "consolidated": _sum_lines(ln for ln in lines if not ln["flagged"]),
            "flagged": _sum_lines(ln for ln in lines if ln["flagged"]),
            "adjustments": adj,
            "adjustments_total": {"channels": adj_total, "total": sum(adj_total.values())}}


def lines_for(stores: Iterable[tuple[str, str, str, tuple[str, ...]]],
              boxes: Iterable[str]) -> list[LineSpec]:
    """The configured stores (id, name, region, boxes), then each box in no store as its own
    line."""
    specs = [LineSpec(i, n, r, b) for i, n, r, b in stores]
    placed = {b for s in specs for b in s.boxes}
    specs += [LineSpec(b, b, "", (b,), store=False) for b in sorted(set(boxes) - placed)]
    return specs


def match_deposits(result: Mapping[str, Any], deposits: Sequence[Mapping[str, Any]]
                   ) -> list[dict[str, Any]]:
    """Per line, the cash to be banked against the deposits finance entered for the day:
    `diff` = deposited − expected, 长款 when positive, 短款 when negative, 相符 when equal."""
    out = []
    for ln in result["lines"]:
        expected = int(ln["channels"]["cash"])
        mine = [d for d in deposits if d["store"] == ln["store"]]
        got = sum(int(d["amount"]) for d in mine)
        diff = got - expected
        out.append({"store": ln["store"], "expected": expected, "deposited": got, "diff": diff,
                    "status": "长款" if diff > 0 else "短款" if diff < 0 else "相符",
                    "deposits": len(mine)})
    return out
