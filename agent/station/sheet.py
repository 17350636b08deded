"""The station's code sheet (不良登记单, pure): the `defect_sheet` template's data for a station
(docs/workshop.md)."""

from __future__ import annotations

from typing import Any

from agent.station.config import StationConfig


def sheet_data(cfg: StationConfig) -> dict[str, Any]:
    """The station's name, steps and defect reasons, as the `defect_sheet` template reads them."""
    return {"station": cfg.name or cfg.id, "steps": list(cfg.steps),
            "reasons": list(cfg.defect_reasons)}
