"""The `defect_sheet` template (不良登记单): a workshop station's defect reasons, the quantities
1–20 and the undo code as QR codes, scanned instead of typed (docs/workshop.md)."""

from __future__ import annotations

from collections.abc import Mapping

from agent.printing.templates import fields as f
from agent.printing.templates.blocks import center
from agent.station.config import MAX_DEFECT_QTY, UNDO_CODE
from drivers import InvalidInput
from drivers.escpos.document import QR, Block, Cut, Document, Rule, Text
from drivers.profiles import PrinterProfile


def build(data: Mapping[str, object], profile: PrinterProfile) -> Document:
    """`station` (its name), `steps` (its route steps), `reasons` (≤ 50): one QR code per reason
    (SLDR:k), per quantity (SLDQ:n) and for undo."""
    data = f.obj(data, "data")
    station = f.text(data, "station", "data", max_len=64)
    steps = f.items(data, "steps", "data", max_items=50)
    if any(type(s) is not int for s in steps):
        raise InvalidInput("data.steps", "must be step numbers")
    reasons = f.items(data, "reasons", "data", required=False, max_items=50)
    b: list[Block] = [center("不良登记单", bold=True, size=2),
                      center(f"工位 {station}（工序 {'、'.join(str(s) for s in steps)}）"),
                      Text("先扫原因，再扫数量（可多次累加），再扫流转卡和工牌"), Rule(),
                      Text("不良原因", bold=True)]
    for k, reason in enumerate(reasons, 1):
        if not isinstance(reason, str) or not 1 <= len(reason) <= 64:
            raise InvalidInput(f"data.reasons[{k - 1}]", "must be text of 1 to 64 characters")
        b += [Text(f"{k}. {reason}"), QR(f"SLDR:{k}", size=5)]
    b += [Rule(), Text("数量", bold=True)]
    for n in range(1, MAX_DEFECT_QTY + 1):
        b += [Text(f"{n} 件"), QR(f"SLDQ:{n}", size=5)]
    b += [Rule(), Text("撤销本工位上一次交接", bold=True), QR(UNDO_CODE, size=5), Cut()]
    return Document(tuple(b))
