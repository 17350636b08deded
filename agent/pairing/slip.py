"""The pairing slip: the code (large) and a QR code of it, for the receipt printer. Pure."""

from __future__ import annotations

from typing import Any

from sync.pairing_code import shown


def slip_document(code: str, box: str, name: str, hq_url: str) -> dict[str, Any]:
    """The document (docs/print-jobs.md) of the slip for `code`."""
    text = shown(code)
    # Spaced out, the big characters stay apart on 203 dpi paper (9 vs 0, D vs C).
    spaced = " ".join(text)
    return {"blocks": [
        {"type": "text", "text": "Storelink 设备配对单", "align": "center", "bold": True,
         "width": 2, "height": 2},
        {"type": "rule"},
        {"type": "text", "text": f"设备 {box}"},
        *([{"type": "text", "text": f"名称 {name}"}] if name else []),
        {"type": "text", "text": f"总部 {hq_url}"},
        {"type": "feed"},
        {"type": "text", "text": "配对码 Pairing code", "align": "center"},
        {"type": "text", "text": spaced, "align": "center", "width": 2, "height": 2},
        {"type": "qr", "data": f"STORELINK-PAIR:{text}", "size": 8, "align": "center"},
        {"type": "rule"},
        {"type": "text", "text": "请总部人员在“接入新设备”页面输入配对码并选择门店。"},
        {"type": "text", "text": "配对码只能用一次，24 小时内有效；过期后设备会打印新的配对单。"},
        {"type": "cut"},
    ]}
