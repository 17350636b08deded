"""The station driven by scans alone: two simulated serial scanners on real ptys, each the
scanner of a station, against the box's services and API (flow card + badge in either order →
handover; every rule refused with its Chinese message and no record; undo in and after the
window)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from agent.station.config import StationConfig
from agent.station.engine import Pair, Pairing, Refusal, Scan, Waiting, classify
from drivers.display import vfd
from drivers.label.flowcard import encode_flow_card
from drivers.sim.display import VfdDisplayModel
from drivers.sim.scanner import SerialScannerSim
from tests.agent.conftest import Client, eventually
from tests.agent.devices.conftest import QUIET_DISCOVERY, daemon_client, next_event
from tests.agent.devices.test_displays import Pty
from tests.agent.sales.conftest import post, records
from tests.agent.station.conftest import station_config

TASK: dict[str, Any] = {
    "task_no": "SC-20261207-009", "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
    "qty": 200, "split_size": 80,
    "route": [{"step": 10, "name": "下料", "rate_fen": 5},
              {"step": 20, "name": "冲压", "rate_fen": 8},
              {"step": 30, "name": "焊接", "rate_fen": 12}]}


def card(n: int, qty: int = 80, task: str = "SC-20261207-009") -> str:
    return encode_flow_card(task, n, 3, qty)


def test_pairing_takes_either_order_within_the_window() -> None:
    p = Pairing(StationConfig("st", "s", (10,), window_s=30))
    c = classify(card(1), 1000)
    assert isinstance(p.feed(c), Waiting)
    out = p.feed(Scan("worker", 30_999, who="W001"))
    assert isinstance(out, Pair) and out.worker == "W001" and out.card.split == 1
    assert isinstance(p.feed(Scan("worker", 40_000, who="W002")), Waiting)
    assert isinstance(p.feed(classify(card(2), 50_000)), Pair)
    # A half-pair older than the window is forgotten.
    assert isinstance(p.feed(classify(card(3), 60_000)), Waiting)
    assert isinstance(p.feed(Scan("worker", 90_001, who="W001")), Waiting)
    assert isinstance(p.feed(classify("SLFC1:X:1/1:1:AAAAAAAA", 90_002)), Refusal)
    assert isinstance(p.feed(classify("6901234500017", 90_003)), Refusal)
    assert classify(" slundo\r\n", 1).kind == "undo"


@contextlib.asynccontextmanager
async def workshop(tmp_path: Path) -> AsyncIterator[
        tuple[SerialScannerSim, SerialScannerSim, Client, aiohttp.ClientWebSocketResponse]]:
    with SerialScannerSim(b"\r") as s10, SerialScannerSim(b"\r") as s20:
        cfg = station_config(tmp_path, None, scanners=[
            {"id": sid, "name": f"{sid} 工位扫码枪", "kind": "serial", "device": sim.port,
             "baudrate": 115200, "terminator": "CR"} for sid, sim in (("s10", s10),
                                                                     ("s20", s20))],
            stations=[{"id": "ws-10", "name": "下料工位", "scanner": "s10", "steps": [10],
                       "undo_window_s": 3600, "defect_reasons": ["尺寸超差", "毛刺"]},
                      {"id": "ws-20", "name": "冲压工位", "scanner": "s20", "steps": [20],
                       "undo_window_s": 0}],
            discovery=dict(QUIET_DISCOVERY))
        async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "hello"
            assert ctx.devices is not None
            for sid in ("s10", "s20"):
                sup = ctx.devices.scanners[sid]
                await eventually(lambda s=sup: s.snapshot().connected, what="scanner open")
            yield s10, s20, client, ws


async def step(ws: aiohttp.ClientWebSocketResponse, sim: SerialScannerSim, code: str
               ) -> dict[str, Any]:
    sim.scan(code)
    return await next_event(ws, "station")


async def test_scans_alone_record_handovers_and_refuse_every_rule(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with workshop(tmp_path) as (s10, s20, client, ws):
        status, out = await post(client, "/v1/production-tasks", TASK)
        assert status == 201, out
        # Card then badge, and badge then card.
        r = await step(ws, s10, card(1))
        assert (r["result"], r["station"]) == ("waiting", "ws-10") and "请刷工牌" in r["message"]
        r = await step(ws, s10, "BADGE-W001")
        assert r["result"] == "ok" and r["message"].startswith("✓ 10 下料"), r
        assert "赵大勇" in r["message"] and r["qty"] == 80
        assert (r["worker_name"], r["today"]) == ("赵大勇", 80)
        assert (await step(ws, s10, "BADGE-W002"))["result"] == "waiting"
        ok2 = await step(ws, s10, card(2))
        assert ok2["result"] == "ok" and ok2["worker"] == "W002"
        before = len(records(db))
        refusals = [
            (s10, [card(1), "BADGE-W001"], "已在 10 下料 交接过"),
            (s20, [card(3, 40), "BADGE-W002"], "工序顺序不对：该容器下一道是 10 下料"),
            (s10, [card(1)[:-1] + ("A" if card(1)[-1] != "A" else "B")], "流转卡无法识别"),
            (s10, [encode_flow_card("SC-OTHER-1", 1, 3, 80), "BADGE-W001"], "不是本车间的流转卡"),
            (s10, [encode_flow_card("SC-20261207-009", 1, 3, 90), "BADGE-W001"], "不是本车间"),
            (s10, ["BADGE-W999"], "无法识别的条码"),
        ]
        for sim, codes, says in refusals:
            for code in codes[:-1]:
                assert (await step(ws, sim, code))["result"] == "waiting"
            r = await step(ws, sim, codes[-1])
            assert r["result"] == "refused" and says in r["message"], (codes, r)
        # Nothing was recorded for the refusals (audit records come only from API requests).
        assert len(records(db)) == before
        # A container handed over at step 10 with defects (through the API) passes 38 on.
        status, h = await post(client, "/v1/handovers", {
            "flow_card": card(3, 40), "step": 10, "worker": "W003", "good": 38,
            "defective": 2, "defect_reason": "尺寸超差"})
        assert status == 201, h
        assert (await step(ws, s20, card(3, 40)))["result"] == "waiting"
        r = await step(ws, s20, "BADGE-W003")
        assert r["result"] == "ok" and r["qty"] == 38 and r["step"] == 20, r
        # ws-20's undo window is 0: a supervisor's badge first, then the undo code.
        r = await step(ws, s20, "SLUNDO")
        assert r["result"] == "refused" and "请主管先刷卡" in r["message"]
        assert (await step(ws, s20, "BADGE-M001"))["result"] == "waiting"
        r = await step(ws, s20, "SLUNDO")
        assert r["result"] == "ok" and "已撤销" in r["message"], r
        # ws-10 undoes its last handover (part 2) within its window, by the code alone.
        r = await step(ws, s10, "SLUNDO")
        assert r["result"] == "ok", r
        assert (await step(ws, s10, "SLUNDO"))["result"] == "refused"
        # Part 2 can be handed over at step 10 again after its undo; W001's day adds up.
        assert (await step(ws, s10, card(2)))["result"] == "waiting"
        r = await step(ws, s10, "BADGE-W001")
        assert (r["result"], r["today"]) == ("ok", 160)
        view = await (await client.get("/v1/stations/ws-10")).json()
        assert view["steps"] == [10] and view["last"]["result"] == "ok"
    handovers = records(db, "handover")
    assert [(h["body"]["batch"], h["body"]["step"], h["body"]["from_worker"], h["body"]["qty"])
            for h in handovers] == [
        ("SC-20261207-009#1/3", 10, "W001", 80), ("SC-20261207-009#2/3", 10, "W002", 80),
        ("SC-20261207-009#3/3", 10, "W003", 38), ("SC-20261207-009#3/3", 20, "W003", 38),
        ("SC-20261207-009#2/3", 10, "W001", 80)]
    assert handovers[0]["body"]["piece_rate"] == 5 and handovers[3]["body"]["piece_rate"] == 8
    undos = [r["body"] for r in records(db, "handover_undo")]
    approval = records(db, "approval")[-1]
    assert undos == [
        {"handover_seq": handovers[3]["seq"], "reason": "工位扫码撤销", "station": "ws-20",
         "actor": "M001", "approval_seq": approval["seq"]},
        {"handover_seq": handovers[1]["seq"], "reason": "工位扫码撤销", "station": "ws-10",
         "actor": "W002"}]
    assert approval["body"]["action"] == "handover_undo" and approval["body"]["via"] == "badge"


async def test_a_code_typed_into_the_station_page_counts_as_a_scan(tmp_path: Path) -> None:
    async with workshop(tmp_path) as (_, __, client, ws):
        assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
        status, r = await post(client, "/v1/stations/ws-10/scan", {"code": "BADGE-W002"})
        assert (status, r["result"]) == (200, "waiting")
        status, r = await post(client, "/v1/stations/ws-10/scan", {"code": card(1)})
        assert r["result"] == "ok" and r["worker"] == "W002", r
        assert (await next_event(ws, "station"))["result"] == "waiting"
        assert (await next_event(ws, "station"))["result"] == "ok"
        status, r = await post(client, "/v1/stations/ws-10/scan", {"code": ""})
        assert (status, r["error"]["field"]) == (400, "code")
        status, r = await post(client, "/v1/stations/ws-99/scan", {"code": card(1)})
        assert (status, r["error"]["field"]) == (404, "station")


async def test_the_station_page_and_what_it_reads(tmp_path: Path) -> None:
    async with workshop(tmp_path) as (s10, _, client, ws):
        page = await client.get("/station/ws-10")
        assert page.status == 200 and page.content_type == "text/html"
        html = await page.text()
        for needed in ('lang="zh-CN"', "/v1/events", "/v1/stations/", "/scan", "keydown",
                       "请扫流转卡或刷工牌", 'ev.type === "station"'):
            assert needed in html, needed
        missing = await client.get("/station/ws-99")
        assert missing.status == 404 and (await missing.json())["error"]["field"] == "station"
        view = await (await client.get("/v1/stations/ws-10")).json()
        assert (view["name"], view["steps"], view["last"]["result"]) == ("下料工位", [10], "idle")
        # What the page shows arrives on the socket it listens to, in Chinese.
        r = await step(ws, s10, "BADGE-W001")
        assert (r["station"], r["result"], r["message"]) == ("ws-10", "waiting",
                                                             "工牌 W001，请扫流转卡")
        r = await step(ws, s10, "6901234500017")
        assert r["result"] == "refused" and r["message"].startswith("无法识别的条码")
        view = await (await client.get("/v1/stations/ws-10")).json()
        assert view["last"]["message"] == r["message"]


async def test_a_container_goes_out_to_a_supplier_and_comes_back(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    task = {**TASK, "task_no": "SC-20261207-010",
            "route": [TASK["route"][0], {**TASK["route"][1], "outsource": True},
                      TASK["route"][2]]}

    def c(n: int) -> str:
        return card(n, task="SC-20261207-010")

    async with workshop(tmp_path) as (s10, s20, client, ws):
        assert (await post(client, "/v1/production-tasks", task))[0] == 201
        for code in (c(1), "BADGE-W001"):
            r = await step(ws, s10, code)
        assert r["result"] == "ok"
        assert (await step(ws, s20, "slsup:gys-01"))["message"] == "委外供应商 GYS-01，请扫流转卡"
        r = await step(ws, s20, c(1))
        assert r["result"] == "ok" and r["message"].startswith("✓ 委外发出 20 冲压"), r
        checks = [(s20, [c(1), "BADGE-W002"], "该容器在委外供应商 GYS-01 处（工序 20），尚未收回"),
                  (s10, [c(1), "BADGE-W002"], "该容器在委外供应商 GYS-01 处"),
                  (s20, [c(1), "SLSUP:GYS-02"], "该容器在委外供应商 GYS-01 处"),
                  (s10, ["SLSUP:GYS-01", c(2)], "工序 10 下料 不允许委外")]
        for sim, codes, says in checks:
            assert (await step(ws, sim, codes[0]))["result"] == "waiting"
            r = await step(ws, sim, codes[1])
            assert r["result"] == "refused" and says in r["message"], (codes, r)
        status, err = await post(client, "/v1/production-tasks/SC-20261207-010/parts/1/split",
                                 {"parts": [40, 40]})
        assert (status, err["error"]["field"]) == (409, "part")
        assert (await step(ws, s20, c(1)))["result"] == "waiting"
        r = await step(ws, s20, "SLSUP:GYS-01")
        assert r["result"] == "ok" and r["message"].startswith("✓ 委外收回 20 冲压"), r
        assert (await step(ws, s20, c(1)))["result"] == "waiting"
        r = await step(ws, s20, "BADGE-W002")
        assert r["result"] == "refused" and "已在 20 冲压 交接过" in r["message"]
        view = await (await client.get("/v1/production-tasks/SC-20261207-010")).json()
        assert view["parts"][0]["away"] is None and "20" in view["parts"][0]["steps"]
    out, back = (h["body"] for h in records(db, "handover")[1:])
    assert (out["outsourced"], out["supplier"], out["from_worker"], out["to_worker"], out["qty"],
            out["piece_rate"]) == ("out", "GYS-01", "-", "GYS-01", 80, 0)
    assert (back["outsourced"], back["supplier"], back["from_worker"], back["to_worker"],
            back["qty"], back["step"]) == ("back", "GYS-01", "GYS-01", "-", 80, 20)


async def test_the_result_also_goes_to_the_stations_customer_display(tmp_path: Path) -> None:
    pole = Pty()
    try:
        with SerialScannerSim(b"\r") as s10:
            cfg = station_config(
                tmp_path, None, discovery=dict(QUIET_DISCOVERY),
                scanners=[{"id": "s10", "kind": "serial", "device": s10.port,
                           "baudrate": 115200, "terminator": "CR"}],
                displays=[{"id": "pole", "name": "工位客显", "kind": "vfd", "device": pole.path}],
                stations=[{"id": "ws-10", "scanner": "s10", "steps": [10], "display": "pole"}])
            async with daemon_client(cfg) as (ctx, client), \
                    client.ws_connect("/v1/events") as ws:
                assert (await ws.receive_json(timeout=10))["type"] == "hello"
                assert ctx.devices is not None
                sup = ctx.devices.scanners["s10"]
                await eventually(lambda: sup.snapshot().connected, what="scanner open")
                assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
                shown = []
                for code in (card(1), "BADGE-W001", "BADGE-W999"):
                    r = await step(ws, s10, code)
                    shown.append(vfd.show_lines(
                        {"ok": "已交接", "refused": "拒绝", "waiting": "请继续扫码"}[r["result"]],
                        r["message"].removeprefix("✓ ")))
                want = vfd.setup() + b"".join(shown)
                got = pole.read_exactly(len(want))
        assert got == want
        model = VfdDisplayModel()
        model.receive(got)
        assert model.lines[0].strip() == "拒绝" and model.lines[1].startswith("无法识别的条码")
    finally:
        pole.close()


async def test_defects_are_scanned_from_the_defect_sheet(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with workshop(tmp_path) as (s10, s20, client, ws):
        assert (await post(client, "/v1/production-tasks", TASK))[0] == 201
        r = await step(ws, s10, "SLDQ:2")
        assert r["result"] == "refused" and r["message"] == "请先扫不良原因，再扫数量"
        r = await step(ws, s10, "SLDR:3")
        assert r["result"] == "refused" and "不良原因码 3 没有配置" in r["message"]
        assert (await step(ws, s10, "SLDQ:21"))["message"].startswith("无法识别的条码")
        assert (await step(ws, s10, "sldr:1"))["message"] == "不良原因：尺寸超差，请扫数量"
        assert (await step(ws, s10, "SLDQ:2"))["result"] == "waiting"
        assert (await step(ws, s10, "SLDR:2"))["result"] == "waiting"
        for _ in range(2):
            r = await step(ws, s10, "SLDQ:1")
        assert r["message"] == "不良：尺寸超差 2 件、毛刺 2 件；请扫流转卡和工牌"
        assert (await step(ws, s10, card(1)))["result"] == "waiting"
        r = await step(ws, s10, "BADGE-W001")
        assert (r["result"], r["qty"], r["defective"]) == ("ok", 76, 4), r
        assert "合格 76 件 不良 4 件" in r["message"]
        # ws-20 has no defect reasons; more defects than the previous step passed is refused.
        assert (await step(ws, s20, "SLDR:1"))["result"] == "refused"
        assert (await step(ws, s10, "SLDR:2"))["result"] == "waiting"
        for _ in range(2):
            assert (await step(ws, s10, "SLDQ:20"))["result"] == "waiting"
        assert (await step(ws, s10, "SLDQ:1"))["result"] == "waiting"
        assert (await step(ws, s10, card(3, 40)))["result"] == "waiting"
        r = await step(ws, s10, "BADGE-W002")
        assert r["result"] == "refused" and "超过上道工序交出的 40 件（不良 41 件）" in r["message"]
    (h,) = records(db, "handover")
    assert (h["body"]["qty"], h["body"]["defects"]) == (
        76, [{"reason": "尺寸超差", "qty": 2}, {"reason": "毛刺", "qty": 2}])


async def test_a_container_goes_out_for_a_range_of_steps_and_never_comes_in_house_for_them(
        tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    task = {**TASK, "task_no": "SC-20261207-011",
            "route": [TASK["route"][0], {"step": 20, "name": "电镀", "outsource": True},
                      {"step": 30, "name": "喷涂", "outsource": True},
                      {"step": 40, "name": "装配", "rate_fen": 6}]}

    def c(n: int) -> str:
        return card(n, task="SC-20261207-011")

    async with workshop(tmp_path) as (s10, s20, client, ws):
        assert (await post(client, "/v1/production-tasks", task))[0] == 201
        for n in (1, 2):
            assert (await step(ws, s10, c(n)))["result"] == "waiting"
            assert (await step(ws, s10, "BADGE-W001"))["result"] == "ok"
        before = len(records(db))
        for code, says in (("SLSUP:GYS-01:40", "工序 40 装配 不允许委外"),
                           ("SLSUP:GYS-01:35", "委外截止工序 35 不在 20 电镀 之后的工艺路线上"),
                           ("SLSUP:GYS-01:10", "委外截止工序 10 不在 20 电镀 之后")):
            assert (await step(ws, s20, c(1)))["result"] == "waiting"
            r = await step(ws, s20, code)
            assert r["result"] == "refused" and says in r["message"], (code, r)
        assert len(records(db)) == before
        assert (await step(ws, s20, "slsup:gys-01:30"))["result"] == "waiting"
        r = await step(ws, s20, c(1))
        assert r["result"] == "ok" and r["message"].startswith("✓ 委外发出 20 电镀–30"), r
        away = "该容器在委外供应商 GYS-01 处（工序 20–30）"
        refusals = [(s20, [c(1), "BADGE-W002"], away + "，尚未收回"),
                    (s20, [c(1), "SLSUP:GYS-02"], away)]
        for sim, codes, says in refusals:
            assert (await step(ws, sim, codes[0]))["result"] == "waiting"
            r = await step(ws, sim, codes[1])
            assert r["result"] == "refused" and says in r["message"], (codes, r)
        view = await (await client.get("/v1/production-tasks/SC-20261207-011")).json()
        assert view["parts"][0]["away"] == {"supplier": "GYS-01", "step": 20, "through": 30}
        # Received back: both outsourced steps are done, neither can be done in house now.
        assert (await step(ws, s20, c(1)))["result"] == "waiting"
        r = await step(ws, s20, "SLSUP:GYS-01")
        assert r["result"] == "ok" and r["message"].startswith("✓ 委外收回 20 电镀–30"), r
        assert (await step(ws, s20, "BADGE-W002"))["result"] == "waiting"
        r = await step(ws, s20, c(1))
        assert r["result"] == "refused" and "已在 20 电镀 交接过" in r["message"], r
        view = await (await client.get("/v1/production-tasks/SC-20261207-011")).json()
        assert view["parts"][0]["away"] is None
        assert sorted(view["parts"][0]["steps"]) == ["10", "20", "30"]
        status, out = await post(client, "/v1/handovers", {
            "flow_card": c(1), "step": 30, "worker": "W002", "good": 80})
        assert status == 409 and "已在 30 喷涂 交接过" in out["error"]["reason"], out
        # Undoing the receive-back puts the container at its supplier again (never in house).
        assert (await step(ws, s20, "BADGE-M001"))["result"] == "waiting"
        assert (await step(ws, s20, "SLUNDO"))["result"] == "ok"
        view = await (await client.get("/v1/production-tasks/SC-20261207-011")).json()
        assert view["parts"][0]["away"] == {"supplier": "GYS-01", "step": 20, "through": 30}
        assert (await step(ws, s20, c(1)))["result"] == "waiting"
        r = await step(ws, s20, "BADGE-W002")
        assert r["result"] == "refused" and "在委外供应商 GYS-01 处" in r["message"], r
    out, back = (h["body"] for h in records(db, "handover")[2:])
    assert (out["outsourced"], out["step"], out["through"], out["to_worker"], out["qty"]) == (
        "out", 20, 30, "GYS-01", 80)
    assert (back["outsourced"], back["step"], back["through"], back["from_worker"],
            back["qty"]) == ("back", 20, 30, "GYS-01", 80)


async def test_only_an_optional_step_may_be_skipped(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    task = {**TASK, "task_no": "SC-20261207-012",
            "route": [TASK["route"][0], {"step": 20, "name": "去毛刺", "rate_fen": 3,
                                         "optional": True}, TASK["route"][2]]}

    def c(n: int, qty: int = 80) -> str:
        return card(n, qty, task="SC-20261207-012")

    async with workshop(tmp_path) as (s10, s20, client, ws):
        status, err = await post(client, "/v1/production-tasks",
                                 {**task, "route": [{**task["route"][1], "optional": "yes"}]})
        assert (status, err["error"]["field"]) == (400, "route[0].optional")
        assert (await post(client, "/v1/production-tasks", task))[0] == 201
        for codes in ((c(1),), ("SLDR:1", "SLDQ:2", c(2))):
            for code in codes:
                assert (await step(ws, s10, code))["result"] == "waiting"
            assert (await step(ws, s10, "BADGE-W001"))["result"] == "ok"
        # Part 1 skips the optional 去毛刺: welded straight after 下料, with what 下料 passed.
        status, h = await post(client, "/v1/handovers", {
            "flow_card": c(1), "step": 30, "worker": "W002", "good": 80})
        assert status == 201, h
        assert (await step(ws, s20, c(1)))["result"] == "waiting"
        r = await step(ws, s20, "BADGE-W003")
        assert r["result"] == "refused" and r["message"] == (
            "可选工序 20 去毛刺 已跳过：该容器已在 30 焊接 交接过"), r
        # Part 2 (2 defects at 下料) takes it: welding then gets at most the 78 it passed.
        assert (await step(ws, s20, c(2)))["result"] == "waiting"
        assert (await step(ws, s20, "BADGE-W003"))["qty"] == 78
        status, out = await post(client, "/v1/handovers", {
            "flow_card": c(2), "step": 30, "worker": "W002", "good": 79})
        assert status == 409 and "上道工序交出的 78 件" in out["error"]["reason"], out
        # A step the route does not mark optional is never skipped.
        status, out = await post(client, "/v1/handovers", {
            "flow_card": c(3, 40), "step": 20, "worker": "W002", "good": 40})
        assert (status, out["error"]["field"]) == (409, "step")
        assert out["error"]["reason"].startswith("工序顺序不对：该容器下一道是 10 下料"), out
        assert (await step(ws, s20, c(3, 40)))["result"] == "waiting"
        r = await step(ws, s20, "BADGE-W003")
        assert r["result"] == "refused" and "下一道是 10 下料" in r["message"], r
    assert [(h["body"]["batch"][-3:], h["body"]["step"], h["body"]["qty"])
            for h in records(db, "handover")] == [
        ("1/3", 10, 80), ("2/3", 10, 78), ("1/3", 30, 80), ("2/3", 20, 78)]
