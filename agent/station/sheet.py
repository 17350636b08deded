"""The station's code sheet (不良登记单, pure): its defect reasons, quantities 1–20 and the undo
code as QR codes, as an ESC/POS print document for the receipt printer (docs/workshop.md)."""

from __future__ import annotations

from typing import Any

from agent.station.config import MAX_DEFECT_QTY, UNDO_CODE, StationConfig


def sheet_document(cfg: StationConfig) -> dict[str, Any]:
    """The print document: one QR code per reason (SLDR:k), per quantity (SLDQ:n), and undo."""
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": "不良登记单", "align": "center", "bold": True, "width": 2,
         "height": 2},
        {"type": "text", "text": f"工位 {cfg.name or cfg.id}（工序 "
                                 f"{'、'.join(str(s) for s in cfg.steps)}）", "align": "center"},
        {"type": "text", "text": "先扫原因，再扫数量（可多次累加），再扫流转卡和工牌"},
        {"type": "rule"}, {"type": "text", "text": "不良原因", "bold": True}]
    for k, reason in enumerate(cfg.defect_reasons, 1):
        blocks += [{"type": "text", "text": f"{k}. {reason}"},
                   {"type": "qr", "data": f"SLDR:{k}", "size": 5}]
    blocks += [{"type": "rule"}, {"type": "text", "text": "数量", "bold": True}]
    for n in range(1, MAX_DEFECT_QTY + 1):
        blocks += [{"type": "text", "text": f"{n} 件"},
                   {"type": "qr", "data": f"SLDQ:{n}", "size": 5}]
    blocks += [{"type": "rule"}, {"type": "text", "text": "撤销本工位上一次交接", "bold": True},
               {"type": "qr", "data": UNDO_CODE, "size": 5}, {"type": "cut"}]
    return {"blocks": blocks}
