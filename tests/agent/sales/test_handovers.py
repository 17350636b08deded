"""Workshop handovers: a container's flow card and a worker's badge scanned at a process step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.label.flowcard import encode_flow_card
from tests.agent.conftest import agent_client
from tests.agent.sales.conftest import audits, post, records, sales_config

CARD = encode_flow_card("SC-20261129-001", 3, 13, 80)


def scan(**over: Any) -> dict[str, Any]:
    """Step 20 (冲压) of container 3/13: 78 good, 2 scratched, scanned with W001's badge."""
    return {"flow_card": CARD, "step": 20, "step_name": "冲压", "worker": "BADGE-W001",
            "good": 78, "defective": 2, "defect_reason": "划伤", "product": "CP-8801",
            "piece_rate": 8, **over}


async def test_a_scanned_handover_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        status, out = await post(client, "/v1/handovers", scan())
        assert status == 201, out
        assert out["flow_card"] == {"task": "SC-20261129-001", "split": 3, "of": 13, "qty": 80}
        assert out["worker"] == "W001"
        # A scanner with Caps Lock on types the code in lower case: still the same card.
        status, out = await post(client, "/v1/handovers", scan(
            flow_card=f"  {CARD.lower()}\r\n", step=30, step_name="焊接", worker="W002",
            to_worker="W003", good=80, defective=0, defect_reason=None))
        assert status == 201, out
    first, second = (r["body"] for r in records(db, "handover"))
    assert first == {"task": "SC-20261129-001", "batch": "SC-20261129-001#3/13", "step": 20,
                     "step_name": "冲压", "from_worker": "W001", "to_worker": "-", "qty": 78,
                     "defects": [{"reason": "划伤", "qty": 2}], "product": "CP-8801",
                     "piece_rate": 8}
    assert (second["from_worker"], second["to_worker"], second["qty"]) == ("W002", "W003", 80)
    assert "defects" not in second
    assert [a["actor"] for a in audits(db, "handover.create")] == ["anonymous"] * 2


async def test_bad_scans_are_400_naming_the_field(tmp_path: Path) -> None:
    broken = CARD[:-1] + ("A" if CARD[-1] != "A" else "B")
    cases: list[tuple[dict[str, Any], str]] = [
        (scan(flow_card=broken), "flow_card.check"),
        (scan(flow_card=CARD.replace(":80:", ":800:")), "flow_card.check"),
        (scan(flow_card="6901234500017"), "flow_card"),
        (scan(flow_card=42), "flow_card"),
        (scan(good=79), "good"),
        (scan(good=-1), "good"),
        (scan(defective=0), "defect_reason"),
        (scan(defect_reason=None), "defect_reason"),
        (scan(defect_reason="划" * 65), "defect_reason"),
        (scan(worker="赵 大勇"), "worker"),
        (scan(worker=""), "worker"),
        (scan(step=-5), "step"),
        (scan(step_name=""), "step_name"),
        (scan(to_worker="W 3"), "to_worker"),
        (scan(piece_rate=0.08), "piece_rate"),
        (scan(machine="M1"), "machine"),
    ]
    async with agent_client(sales_config(tmp_path)) as (_, client):
        for body, field in cases:
            status, out = await post(client, "/v1/handovers", body)
            assert (status, out["error"]["field"]) == (400, field), (field, out)
    assert records(tmp_path / "journal.db", "handover") == []
