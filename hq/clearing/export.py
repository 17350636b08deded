"""A clearing run as rows for finance (pure): CSV (UTF-8 with BOM) and XLSX, one row per box,
store and consolidated figure and per adjustment, each naming the checkpoints it rests on."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openpyxl import Workbook

from hq.clearing.ledger import CHANNEL_NAMES, CHANNELS
from hq.settlement.book import CHINA

HEADER = ("类型", "清算日", "门店", "门店名称", "设备", "渠道", "渠道名称", "金额(分)",
          "金额(元)", "标记", "检查点", "调整记录")
"""类型: 设备 / 门店 / 汇总 / 调整; 标记: the line's flags (a flagged 门店 is not in 汇总);
检查点: box@size/head(/cosigned time) of every journal the figure rests on."""
KINDS = ("设备", "门店", "汇总", "调整")


def yuan(fen: int) -> str:
    """Fen as a yuan amount with two decimals (exact)."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def checkpoint_ref(box: str, cp: Mapping[str, Any], full: bool = True) -> str:
    """`box@size/head` (full: the whole hash and the cosignature time, else 16 hex digits)."""
    head = str(cp["head"])
    if full:
        return f"{box}@{cp['size']}/{head}/{_when(cp.get('cosigned_ms'))}"
    return f"{box}@{cp['size']}/{head[:16]}"


def rows(run: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every figure of a run in HEADER's order (amounts in fen as numbers)."""
    day = run["day"]
    cps: Mapping[str, Mapping[str, Any]] = run["checkpoints"]
    out: list[tuple[Any, ...]] = []

    def refs(boxes: list[str]) -> str:
        return ";".join(checkpoint_ref(b, cps[b], full=False) for b in boxes if b in cps)

    included: list[str] = []
    for ln in run["lines"]:
        flags = "；".join(f"{f['box']} {f['name']}" for f in ln["flags"])
        for b in ln["boxes"]:
            for ch in CHANNELS:
                out.append(("设备", day, ln["store"], ln["name"], b["box"], ch, CHANNEL_NAMES[ch],
                            b["channels"][ch], yuan(b["channels"][ch]), flags,
                            checkpoint_ref(b["box"], b["checkpoint"]), ""))
        boxes = [b["box"] for b in ln["boxes"]]
        if not ln["flagged"]:
            included += boxes
        for ch in CHANNELS:
            out.append(("门店", day, ln["store"], ln["name"], "", ch, CHANNEL_NAMES[ch],
                        ln["channels"][ch], yuan(ln["channels"][ch]), flags, refs(boxes), ""))
    total = run["consolidated"]["channels"]
    for ch in CHANNELS:
        out.append(("汇总", day, "", "", "", ch, CHANNEL_NAMES[ch], total[ch], yuan(total[ch]),
                    "", refs(included), ""))
    for a in run["adjustments"]:
        out.append(("调整", a["day"], a["store"], "", a["box"], a["channel"], a["channel_name"],
                    a["delta"], yuan(a["delta"]), "", checkpoint_ref(a["box"], a["checkpoint"]),
                    " ".join(str(s) for s in a["seqs"])))
    return out


def to_csv(run: Mapping[str, Any]) -> bytes:
    """The run as CSV (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    w.writerows(rows(run))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(run: Mapping[str, Any]) -> bytes:
    """The run as an XLSX workbook: one sheet 清算 with HEADER's columns, fen as numbers."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("清算")
    sheet.append(list(HEADER))
    for r in rows(run):
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
