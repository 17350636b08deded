"""A store's colour on the overview grid from its boxes (pure)."""

from __future__ import annotations

from typing import Any

from hq.fleet.store_health import LAG_WARN, store_health


def box(presence: str = "online", printer: str = "ok", lag: int = 0) -> dict[str, Any]:
    return {"id": "B1", "presence": presence, "sync_lag": lag,
            "devices": [{"id": "front", "kind": "printer", "state": printer, "detail": "正常"},
                        {"id": "scale", "kind": "scale", "state": "error", "detail": ""}]}


def test_green_amber_red_and_empty() -> None:
    assert store_health([box(), box()], 0).level == "ok"
    assert store_health([], 0).to_json() == {"health": "empty", "reasons": ["未配置设备"],
                                             "boxes_online": 0, "boxes_total": 0}
    for amber in (box("silent"), box("unknown"), box(printer="paper_low"),
                  box(lag=LAG_WARN + 1)):
        assert store_health([box(), amber], 0).level == "warn", amber
    for red in (box("offline"), box("never"), box(printer="paper_out"), box(printer="offline")):
        assert store_health([box(), red], 0).level == "bad", red
    h = store_health([box(), box()], 2)
    assert (h.level, h.reasons, h.online, h.total) == ("bad", ("告警 2 条",), 2, 2)


def test_red_reasons_come_before_amber_ones() -> None:
    h = store_health([box("silent"), box("offline", printer="jam")], 0)
    assert h.reasons == ("1 台设备离线", "打印机 front jam", "1 台设备状态不明")
