"""The workshop end to end with real processes (mosquitto, `storelink hq run`, `storelink agent
run`) and two simulated serial scanners on ptys as two stations: HQ sends a production task, the
box splits it, the scanners play the route (with a defect handover, an undo and refused rule
violations), and HQ's progress and piece counts equal the expected figures exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.label.flowcard import encode_flow_card
from drivers.sim.scanner import SerialScannerSim
from tests.e2e.daemon_world import BOX, DaemonWorld, fetch
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(600)

TASK_NO = "SC-20261207-021"
TASK: dict[str, Any] = {"task_no": TASK_NO, "qty": 200, "split_size": 80, "due": "2026-12-31",
        "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
        "route": [{"step": 10, "name": "下料", "rate_fen": 5},
                  {"step": 20, "name": "冲压", "rate_fen": 8},
                  {"step": 30, "name": "焊接", "rate_fen": 12}]}
WORKERS = {"W001": "赵大勇", "W002": "钱小红", "W003": "孙建国", "W004": "周丽", "W005": "吴海波"}


def card(n: int, qty: int = 80) -> str:
    return encode_flow_card(TASK_NO, n, 3, qty)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[DaemonWorld, SerialScannerSim, SerialScannerSim]]:
    with SerialScannerSim(b"\r") as sa, SerialScannerSim(b"\r") as sb:
        w = DaemonWorld(tmp_path)
        workers = "".join(f'\n[[journal.workers]]\nid = "{i}"\nname = "{n}"\nbadge = "BADGE-{i}"\n'
                          for i, n in WORKERS.items())
        with w.box_config.open("a", encoding="utf-8") as f:
            f.write(workers + f"""
[[scanners]]
id = "sa"
kind = "serial"
device = "{sa.port}"
baudrate = 115200
terminator = "CR"

[[scanners]]
id = "sb"
kind = "serial"
device = "{sb.port}"
baudrate = 115200
terminator = "CR"

[[stations]]
id = "ws-a"
name = "下料工位"
scanner = "sa"
steps = [10]

[[stations]]
id = "ws-b"
name = "冲压焊接工位"
scanner = "sb"
steps = [20, 30]
""")
        try:
            yield w, sa, sb
        finally:
            w.close()


def scan(w: DaemonWorld, sim: SerialScannerSim, station: str, code: str) -> dict[str, Any]:
    """Scan `code` and wait for the station's next result."""
    before = w.box_api("GET", f"/v1/stations/{station}")[1]["results"]
    sim.scan(code)
    wait_for(lambda: w.box_api("GET", f"/v1/stations/{station}")[1]["results"] > before,
             what=f"{station} answered {code}")
    last: dict[str, Any] = w.box_api("GET", f"/v1/stations/{station}")[1]["last"]
    return last


def test_a_task_from_hq_played_by_two_stations_gives_exact_figures(
        world: tuple[DaemonWorld, SerialScannerSim, SerialScannerSim]) -> None:
    w, sa, sb = world
    w.start_box()
    wait_for(w.online, what="box online")
    wait_for(lambda: all(s["connected"] for s in
                         w.box_api("GET", "/v1/scanners")[1]["scanners"]), what="scanners open")
    status, err = w.hq_api("POST", "/v1/production-tasks", {"box": BOX, "task": [TASK]})
    assert (status, err["error"]["field"]) == (400, "task"), err
    status, cmd = w.hq_api("POST", "/v1/production-tasks", {"box": BOX, "task": TASK})
    assert status == 202 and cmd["name"] == "production_task", cmd
    wait_for(lambda: w.hq_api("GET", f"/v1/commands/{cmd['nonce']}")[1].get("result") == "done",
             what="task recorded")

    def ok(sim: SerialScannerSim, station: str, *codes: str) -> dict[str, Any]:
        for code in codes[:-1]:
            assert scan(w, sim, station, code)["result"] == "waiting"
        r = scan(w, sim, station, codes[-1])
        assert r["result"] == "ok", (codes, r)
        return r

    def refused(sim: SerialScannerSim, station: str, says: str, *codes: str) -> None:
        for code in codes[:-1]:
            assert scan(w, sim, station, code)["result"] == "waiting"
        r = scan(w, sim, station, codes[-1])
        assert r["result"] == "refused" and says in r["message"], (codes, r)

    ok(sa, "ws-a", card(1), "BADGE-W001")
    ok(sb, "ws-b", "BADGE-W002", card(1))
    assert ok(sb, "ws-b", card(1), "BADGE-W003")["step"] == 30
    ok(sa, "ws-a", card(2), "BADGE-W001")
    assert "已撤销" in scan(w, sa, "ws-a", "SLUNDO")["message"]
    ok(sa, "ws-a", "BADGE-W004", card(2))
    refused(sb, "ws-b", "工序顺序不对：该容器下一道是 10 下料", card(3, 40), "BADGE-W003")
    status, h = w.box_api("POST", "/v1/handovers", {
        "flow_card": card(3, 40), "step": 10, "step_name": "下料", "worker": "W005",
        "good": 38, "defective": 2, "defect_reason": "尺寸超差", "piece_rate": 5})
    assert status == 201, h
    assert ok(sb, "ws-b", card(3, 40), "BADGE-W002")["qty"] == 38
    refused(sa, "ws-a", "已在 10 下料 交接过", card(1), "BADGE-W001")
    refused(sa, "ws-a", "不是本车间的流转卡", encode_flow_card("SC-OTHER-1", 1, 1, 5),
            "BADGE-W001")
    refused(sa, "ws-a", "流转卡无法识别", card(2)[:-2] + "ZZ")
    refused(sa, "ws-a", "无法识别的条码", "BADGE-W999")
    wait_for(w.settled, what="the box's journal verified at HQ")
    status, progress = w.hq_api("GET", "/v1/workshop/tasks")
    assert status == 200, progress
    (task,) = progress["tasks"]
    assert (task["box"], task["task"], task["finished"], task["late"]) == (
        BOX, "SC-20261207-021", 80, False)
    assert [(s["step"], s["good"], s["defective"], s["defects"]) for s in task["steps"]] == [
        (10, 198, 2, {"尺寸超差": 2}), (20, 118, 0, {}), (30, 80, 0, {})]
    assert [(p["part"], p["at_step"], p["next_step"]) for p in task["parts"]] == [
        (1, 30, None), (2, 10, 20), (3, 20, 30)]
    status, pieces = w.hq_api("GET", "/v1/workshop/pieces")
    assert status == 200
    assert [(r["worker"], r["step"], r["good"], r["defective"], r["amount"])
            for r in pieces["pieces"]] == [
        ("W001", 10, 80, 0, 400), ("W002", 20, 118, 0, 944), ("W003", 30, 80, 0, 960),
        ("W004", 10, 80, 0, 400), ("W005", 10, 38, 2, 190)]
    status, csv = fetch(w.hq.url, "GET", "/v1/workshop/pieces.csv")
    assert status == 200 and csv.startswith("\ufeff日期,门店设备,工号")
    assert f"{pieces['pieces'][1]['day']},{BOX},W002,SC-20261207-021,20,冲压,118,0,8,944\r\n" in csv
    status, page = fetch(w.hq.url, "GET", "/workshop")
    assert status == 200 and "车间生产进度与计件" in page and "/v1/workshop/tasks" in page
