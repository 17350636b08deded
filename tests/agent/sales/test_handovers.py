"""Workshop handovers: a container's flow card and a worker's badge scanned at a process step,
under the same rules as a station's scans (the card's task recorded on the box, route order,
quantities, the route's rate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.label.flowcard import encode_flow_card
from tests.agent.conftest import agent_client
from tests.agent.sales.conftest import audits, post, records, sales_config

CARD = encode_flow_card("SC-20261129-001", 3, 13, 80)
TASK: dict[str, Any] = {
    "task_no": "SC-20261129-001", "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
    "qty": 1000, "split_size": 80,
    "route": [{"step": 20, "name": "冲压", "rate_fen": 8}, {"step": 30, "name": "焊接",
                                                          "rate_fen": 12}]}
"""1,000 in 13 containers (12 × 80 + 40): card 3/13 holds 80."""


def scan(**over: Any) -> dict[str, Any]:
    """Step 20 (冲压) of container 3/13: 78 good, 2 scratched, scanned with W001's badge."""
    return {"flow_card": CARD, "step": 20, "step_name": "冲压", "worker": "BADGE-W001",
            "good": 78, "defective": 2, "defect_reason": "划伤", "product": "CP-8801",
            "piece_rate": 8, **over}


async def test_a_scanned_handover_is_recorded(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
        status, out = await post(client, "/v1/handovers", scan())
        assert status == 201, out
        assert out["flow_card"] == {"task": "SC-20261129-001", "split": 3, "of": 13, "qty": 80}
        assert out["worker"] == "W001"
        # A scanner with Caps Lock on types the code in lower case: still the same card.
        status, out = await post(client, "/v1/handovers", scan(
            flow_card=f"  {CARD.lower()}\r\n", step=30, step_name="焊接", worker="W002",
            to_worker="W003", good=78, defective=0, defect_reason=None, piece_rate=None))
        assert status == 201, out
    first, second = (r["body"] for r in records(db, "handover"))
    assert first == {"task": "SC-20261129-001", "batch": "SC-20261129-001#3/13", "step": 20,
                     "step_name": "冲压", "from_worker": "W001", "to_worker": "-", "qty": 78,
                     "defects": [{"reason": "划伤", "qty": 2}], "product": "CP-8801",
                     "piece_rate": 8}
    assert (second["from_worker"], second["to_worker"], second["qty"]) == ("W002", "W003", 78)
    assert "defects" not in second and second["piece_rate"] == 12
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


async def test_a_handover_request_breaking_a_workshop_rule_is_409_in_chinese(
        tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
        before = len(records(db))
        cases: list[tuple[dict[str, Any], str, str]] = [
            (scan(flow_card=encode_flow_card("SC-OTHER-1", 1, 1, 80)), "flow_card",
             "不是本车间的流转卡"),
            (scan(flow_card=encode_flow_card("SC-20261129-001", 3, 12, 80)), "flow_card",
             "不是本车间的流转卡"),
            (scan(step=30, step_name="焊接"), "step", "工序顺序不对：该容器下一道是 20 冲压"),
            (scan(step=25), "step", "工序 25 不在任务 SC-20261129-001 的工艺路线上"),
            (scan(worker="W999"), "worker", "无法识别的工牌"),
            (scan(piece_rate=80), "piece_rate", "与任务 SC-20261129-001 的工艺路线不符"),
            (scan(step_name="焊接"), "step_name", "工艺路线不符"),
        ]
        for body, field, says in cases:
            status, out = await post(client, "/v1/handovers", body)
            assert (status, out["error"]["field"]) == (409, field), (field, out)
            assert says in out["error"]["reason"], out
        assert len(records(db)) == before + len(cases)  # the requests' audit records only
        assert records(db, "handover") == []
        assert (await post(client, "/v1/handovers", scan()))[0] == 201
        status, out = await post(client, "/v1/handovers", scan(good=80, defective=0,
                                                               defect_reason=None))
        assert status == 409 and "已在 20 冲压 交接过" in out["error"]["reason"], out
        # The next step gets at most what step 20 passed (78).
        status, out = await post(client, "/v1/handovers", scan(step=30, step_name="焊接",
                                                               piece_rate=12, good=79,
                                                               defective=0, defect_reason=None))
        assert status == 409 and "上道工序交出的 78 件" in out["error"]["reason"], out
    assert len(records(db, "handover")) == 1
