"""The workshop end to end with real processes (mosquitto, `storelink hq run`, `storelink agent
run`), a simulated TSPL printer on TCP and two simulated serial scanners on ptys as two stations:
HQ sends a production task, the box splits it and prints the flow cards (each QR code decoded
from the simulator's rendering with zxing-cpp, and those codes are what the scanners scan), the
scanners play the route for every part with defects from the defect sheet, one outsourced step
and an undo, every rule violation is refused with its message and leaves no record (the scans,
and `POST /v1/handovers` on the running daemon), and HQ's progress, piece counts, CSV and XLSX
equal the expected figures exactly."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
import zxingcpp
from openpyxl import load_workbook

from drivers.label import render_label
from drivers.label.flowcard import encode_flow_card
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.scanner import SerialScannerSim
from drivers.sim.shells import TcpShell
from tests.e2e.daemon_world import BOX, DaemonWorld, fetch, records
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(600)

TASK_NO = "SC-20261207-021"
TASK: dict[str, Any] = {"task_no": TASK_NO, "qty": 200, "split_size": 80, "due": "2026-12-31",
        "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
        "route": [{"step": 10, "name": "下料", "rate_fen": 5},
                  {"step": 20, "name": "冲压", "rate_fen": 8},
                  {"step": 30, "name": "焊接", "rate_fen": 12, "outsource": True}]}
WORKERS = {"W001": "赵大勇", "W002": "钱小红", "W003": "孙建国", "W004": "周丽", "W005": "吴海波"}
World = tuple[DaemonWorld, SerialScannerSim, SerialScannerSim, SimTsplPrinter]


def card(n: int, qty: int = 80) -> str:
    return encode_flow_card(TASK_NO, n, 3, qty)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    label = SimTsplPrinter(get_profile("tspl-203"), "ok")
    shell = TcpShell(label)
    shell.start()
    with SerialScannerSim(b"\r") as sa, SerialScannerSim(b"\r") as sb:
        w = DaemonWorld(tmp_path)
        workers = "".join(f'\n[[journal.workers]]\nid = "{i}"\nname = "{n}"\nbadge = "BADGE-{i}"\n'
                          for i, n in WORKERS.items())
        with w.box_config.open("a", encoding="utf-8") as f:
            f.write(workers + f"""
[[printers]]
id = "workshop"
name = "车间标签机"
profile = "tspl-203"
transport = "tcp"
host = "127.0.0.1"
port = {shell.port}
connect_timeout = 1.0

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
label_printer = "workshop"
defect_reasons = ["尺寸超差", "毛刺"]

[[stations]]
id = "ws-b"
name = "冲压焊接工位"
scanner = "sb"
steps = [20, 30]
defect_reasons = ["焊点不良"]
""")
        try:
            yield w, sa, sb, label
        finally:
            w.close()
            shell.stop()


def scan(w: DaemonWorld, sim: SerialScannerSim, station: str, code: str) -> dict[str, Any]:
    """Scan `code` and wait for the station's next result."""
    before = w.box_api("GET", f"/v1/stations/{station}")[1]["results"]
    sim.scan(code)
    wait_for(lambda: w.box_api("GET", f"/v1/stations/{station}")[1]["results"] > before,
             what=f"{station} answered {code}")
    last: dict[str, Any] = w.box_api("GET", f"/v1/stations/{station}")[1]["last"]
    return last


def test_a_task_from_hq_played_by_two_stations_gives_exact_figures(world: World) -> None:
    w, sa, sb, label = world
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
    # One flow card per container on the label printer; the scanners scan what was printed.
    wait_for(lambda: len(label.labels) == 3, what="three flow cards printed")
    printed = [{r.text for r in zxingcpp.read_barcodes(render_label(lb).convert("L"))}
               for lb in label.labels]
    assert printed == [{card(1)}, {card(2)}, {card(3, 40)}]
    c1, c2, c3 = (next(iter(codes)) for codes in printed)

    def journal_size() -> int:
        return len(w.box_journal())

    def ok(sim: SerialScannerSim, station: str, *codes: str) -> dict[str, Any]:
        for code in codes[:-1]:
            assert scan(w, sim, station, code)["result"] == "waiting", code
        r = scan(w, sim, station, codes[-1])
        assert r["result"] == "ok", (codes, r)
        return r

    def refused(sim: SerialScannerSim, station: str, says: str, *codes: str) -> None:
        before = journal_size()
        for code in codes[:-1]:
            assert scan(w, sim, station, code)["result"] == "waiting", code
        r = scan(w, sim, station, codes[-1])
        assert r["result"] == "refused" and says in r["message"], (codes, r)
        assert journal_size() == before, (codes, "a refusal left a record")

    ok(sa, "ws-a", c1, "BADGE-W001")
    ok(sb, "ws-b", "BADGE-W002", c1)
    assert ok(sb, "ws-b", c1, "BADGE-W003")["step"] == 30
    ok(sa, "ws-a", c2, "BADGE-W001")
    assert "已撤销" in scan(w, sa, "ws-a", "SLUNDO")["message"]
    ok(sa, "ws-a", "BADGE-W004", c2)
    refused(sb, "ws-b", "工序顺序不对：该容器下一道是 10 下料", c3, "BADGE-W003")
    status, h = w.box_api("POST", "/v1/handovers", {
        "flow_card": c3, "step": 10, "step_name": "下料", "worker": "W005",
        "good": 38, "defective": 2, "defect_reason": "尺寸超差", "piece_rate": 5})
    assert status == 201, h
    # The same rules on the local API of the running daemon: 409 in Chinese, no handover.
    handovers = len([r for r in records(w.box_journal()) if r["type"] == "handover"])
    for body, says in (
            ({"flow_card": c3, "step": 30, "worker": "W003", "good": 38}, "工序顺序不对"),
            ({"flow_card": c1, "step": 10, "worker": "W001", "good": 80}, "已在 10 下料 交接过"),
            ({"flow_card": c3, "step": 20, "worker": "W002", "good": 39}, "上道工序交出的 38 件"),
            ({"flow_card": c2, "step": 20, "worker": "W002", "good": 80, "piece_rate": 80},
             "工艺路线不符")):
        status, out = w.box_api("POST", "/v1/handovers", body)
        assert status == 409 and says in out["error"]["reason"], (body, out)
    assert len([r for r in records(w.box_journal()) if r["type"] == "handover"]) == handovers
    assert ok(sb, "ws-b", c3, "BADGE-W002")["qty"] == 38
    # Defects scanned from the defect sheet: reason 1, quantity 3.
    r = ok(sb, "ws-b", "SLDR:1", "SLDQ:3", c2, "BADGE-W003")
    assert (r["step"], r["qty"], r["defective"]) == (20, 77, 3), r
    refused(sb, "ws-b", "合格 + 不良超过上道工序交出的 38 件", "SLDR:1", "SLDQ:20", "SLDQ:19", c3,
            "BADGE-W003")
    # Step 30 of container 3 done outside: sent out, refused while away, received back.
    r = ok(sb, "ws-b", "SLSUP:JX-01", c3)
    assert r["message"].startswith("✓ 委外发出 30 焊接"), r
    refused(sb, "ws-b", "该容器在委外供应商 JX-01 处（工序 30），尚未收回", c3, "BADGE-W003")
    wait_for(w.settled, what="the send-out verified at HQ")
    part3 = w.hq_api("GET", "/v1/workshop/tasks")[1]["tasks"][0]["parts"][2]
    assert (part3["at_supplier"], part3["at_supplier_steps"]) == ("JX-01", [30, 30]), part3
    assert ok(sb, "ws-b", c3, "SLSUP:JX-01")["message"].startswith("✓ 委外收回 30 焊接")
    refused(sa, "ws-a", "已在 10 下料 交接过", c1, "BADGE-W001")
    refused(sa, "ws-a", "不是本车间的流转卡", encode_flow_card("SC-OTHER-1", 1, 1, 5),
            "BADGE-W001")
    refused(sa, "ws-a", "流转卡无法识别", c2[:-2] + "ZZ")
    refused(sa, "ws-a", "无法识别的条码", "BADGE-W999")
    wait_for(w.settled, what="the box's journal verified at HQ")
    status, progress = w.hq_api("GET", "/v1/workshop/tasks")
    assert status == 200, progress
    (task,) = progress["tasks"]
    assert (task["box"], task["task"], task["finished"], task["late"]) == (
        BOX, "SC-20261207-021", 118, False)
    assert [(s["step"], s["good"], s["defective"], s["defects"]) for s in task["steps"]] == [
        (10, 198, 2, {"尺寸超差": 2}), (20, 195, 3, {"焊点不良": 3}), (30, 118, 0, {})]
    assert [(p["part"], p["at_step"], p["next_step"], p["at_supplier"])
            for p in task["parts"]] == [(1, 30, None, None), (2, 20, 30, None),
                                        (3, 30, None, None)]
    status, pieces = w.hq_api("GET", "/v1/workshop/pieces")
    assert status == 200
    rows = [(r["worker"], r["step"], r["good"], r["defective"], r["amount"])
            for r in pieces["pieces"]]
    assert rows == [
        ("W001", 10, 80, 0, 400), ("W002", 20, 118, 0, 944), ("W003", 20, 77, 3, 616),
        ("W003", 30, 80, 0, 960), ("W004", 10, 80, 0, 400), ("W005", 10, 38, 2, 190)]
    status, csv = fetch(w.hq.url, "GET", "/v1/workshop/pieces.csv")
    assert status == 200 and csv.startswith("\ufeff日期,门店设备,工号")
    assert f"{pieces['pieces'][1]['day']},{BOX},W002,SC-20261207-021,20,冲压,118,0,8,944\r\n" in csv
    with urlopen(w.hq.url + "/v1/workshop/pieces.xlsx", timeout=30) as answer:
        sheet = load_workbook(io.BytesIO(answer.read()), read_only=True)["计件工资"]
        xlsx = [tuple(r) for r in sheet.iter_rows(values_only=True)][1:]
    assert [(r[2], r[4], r[6], r[7], r[9]) for r in xlsx] == rows
    assert sum(r[9] for r in xlsx) == sum(r["amount"] for r in pieces["pieces"]) == 3510
    status, page = fetch(w.hq.url, "GET", "/workshop")
    assert status == 200 and "车间生产进度与计件" in page and "/v1/workshop/pieces.xlsx" in page
