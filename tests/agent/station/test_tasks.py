"""Production tasks and splits on the box: entered on the local API, split into containers,
re-split, one flow card per part on a simulated TSPL printer (QR codes read back with zxing-cpp),
reprints marked 补打 — every change a journal record, every refusal leaving none."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from agent.station.tasks import quantities
from drivers import InvalidInput
from drivers.label import build_template, encode_label, parse_flow_card, render_label
from drivers.label.document import LabelDocument, Text
from drivers.label.flowcard import encode_flow_card
from drivers.label.interpret import interpret
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import agent_client, eventually
from tests.agent.sales.conftest import audits, post, records
from tests.agent.station.conftest import HINGES, TASKS, station_config

Sim = tuple[SimTsplPrinter, TcpShell]


def cards(model: SimTsplPrinter) -> list[str]:
    """The QR payload of every label the simulator printed, decoded from its rendering."""
    out = []
    for label in model.labels:
        (code,) = {r.text for r in zxingcpp.read_barcodes(render_label(label).convert("L"))}
        out.append(code)
    return out


def test_quantities_by_container_size_and_by_list() -> None:
    assert quantities(1000, {"size": 80}) == [80] * 12 + [40]
    assert quantities(2400, {"size": 200}) == [200] * 12
    assert quantities(100, {"parts": [30, 30, 40]}) == [30, 30, 40]
    for raw, field in (({"parts": [30, 30]}, "parts"), ({"size": 0}, "size"),
                       ({"size": 10, "parts": [100]}, "size"), ({}, "size"),
                       ({"parts": [100, 0]}, "parts[1]"), ({"size": 1}, "size")):
        with pytest.raises(InvalidInput) as e:
            quantities(100 if field != "size" or raw != {"size": 1} else 10**6, raw)
        assert e.value.field == field, raw


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_containers_always_add_up(total: int, size: int) -> None:
    try:
        qs = quantities(total, {"size": size})
    except InvalidInput as e:
        assert e.field == "size" and -(-total // size) > 9999
        return
    assert sum(qs) == total and all(0 < q <= size for q in qs)
    assert all(q == size for q in qs[:-1])


async def test_a_task_is_split_and_every_container_gets_its_card(tmp_path: Path,
                                                                tspl: Sim) -> None:
    model, shell = tspl
    db = tmp_path / "journal.db"
    async with agent_client(station_config(tmp_path, shell.port)) as (_, client):
        status, out = await post(client, "/v1/production-tasks", HINGES)
        assert status == 201, out
        parts = out["task"]["parts"]
        assert [p["qty"] for p in parts] == [80] * 12 + [40]
        assert {p["of"] for p in parts} == {13}
        assert [c["state"] for c in out["split"]["cards"]] == ["queued"] * 13
        await eventually(lambda: len(model.labels) == 13)
        # The same task again is a replay; other contents under its number are refused.
        status, again = await post(client, "/v1/production-tasks", HINGES)
        assert (status, again["created"]) == (200, False)
        status, err = await post(client, "/v1/production-tasks", {**HINGES, "qty": 999})
        assert (status, err["error"]["field"]) == (409, "task_no")
    expected = {encode_flow_card("SC-20261129-001", n, 13, 80 if n < 13 else 40)
                for n in range(1, 14)}
    assert set(cards(model)) == expected
    (task,) = records(db, "production_task")
    assert task["body"]["product_name"] == "不锈钢门铰链 组件"
    assert task["body"]["route"][1] == {"step": 20, "name": "冲压", "piece_rate": 8}
    assert task["body"]["source"] == "box"
    (split,) = records(db, "split")
    assert split["body"]["of"] == 13 and "replaces" not in split["body"]


def _bad(**over: Any) -> dict[str, Any]:
    t = copy.deepcopy(HINGES)
    for k, v in over.items():
        if v is None:
            t.pop(k, None)
        else:
            t[k] = v
    return t


@pytest.mark.parametrize(("body", "field"), [
    (_bad(task_no="sc 001"), "task_no"),
    (_bad(task_no=None), "task_no"),
    (_bad(qty=0), "qty"),
    (_bad(qty="1000"), "qty"),
    (_bad(product={"code": "CP-8801"}), "product.name"),
    (_bad(product={"code": "CP 8801", "name": "铰链"}), "product.code"),
    (_bad(product={"code": "CP-8801", "name": "铰链", "colour": "银"}), "product.colour"),
    (_bad(route=[]), "route"),
    (_bad(route=[{"step": 20, "name": "冲压"}, {"step": 10, "name": "下料"}]), "route[1].step"),
    (_bad(route=[{"step": 10, "name": "下料", "rate_fen": -1}]), "route[0].rate_fen"),
    (_bad(route=[{"step": 10, "name": "下料", "outsource": "yes"}]), "route[0].outsource"),
    (_bad(route=[{"step": 10, "name": ""}]), "route[0].name"),
    (_bad(due="2026-02-30"), "due"),
    (_bad(split_size=0), "split_size"),
    (_bad(defect_reasons=["划伤", ""]), "defect_reasons[1]"),
    (_bad(colour="银"), "colour"),
    ([HINGES], "body"),
])
async def test_bad_tasks_are_400_naming_the_field_and_record_nothing(
        tmp_path: Path, body: Any, field: str) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(station_config(tmp_path, None)) as (_, client):
        status, out = await post(client, "/v1/production-tasks", body)
        assert (status, out["error"]["field"]) == (400, field), out
    assert not records(db, "production_task") and not records(db, "split")


async def test_explicit_split_resplit_and_reprint(tmp_path: Path, tspl: Sim) -> None:
    model, shell = tspl
    db = tmp_path / "journal.db"
    cakes = next(t for t in TASKS if t["task_no"] == "SC-20261129-002") if TASKS else {
        **HINGES, "task_no": "SC-20261129-002", "qty": 2400}
    cakes = {k: v for k, v in cakes.items() if k != "split_size"}
    no = cakes["task_no"]
    base = f"/v1/production-tasks/{no}"
    async with agent_client(station_config(tmp_path, shell.port)) as (_, client):
        status, out = await post(client, "/v1/production-tasks", {**cakes, "due": "2026-12-05"})
        assert status == 201 and out["task"]["parts"] == [], out
        assert (await client.get(f"{base}x")).status == 404
        status, err = await post(client, f"{base}/split", {"parts": [1000, 1000]})
        assert (status, err["error"]["field"]) == (400, "parts")
        status, out = await post(client, f"{base}/split", {"parts": [1000, 800, 600]})
        assert status == 201, out
        status, err = await post(client, f"{base}/split", {"size": 100})
        assert (status, err["error"]["field"]) == (409, "task_no")
        # A handover on part 1 pins it; part 2 is re-split into 500 + 300 (parts 4 and 5).
        status, h = await post(client, "/v1/handovers", {
            "flow_card": encode_flow_card(no, 1, 3, 1000), "step": 10, "worker": "BADGE-W001",
            "good": 1000})
        assert status == 201, h
        status, err = await post(client, f"{base}/parts/1/split", {"parts": [500, 500]})
        assert (status, err["error"]["field"]) == (409, "part")
        assert f"record {h['seq']}" in err["error"]["reason"]
        status, err = await post(client, f"{base}/parts/2/split", {"parts": [500, 200]})
        assert (status, err["error"]["field"]) == (400, "parts")
        status, out = await post(client, f"{base}/parts/2/split", {"parts": [500, 300]})
        assert status == 201, out
        assert [(p["part"], p["of"], p["retired"]) for p in out["task"]["parts"]] == [
            (1, 3, False), (2, 3, True), (3, 3, False), (4, 5, False), (5, 5, False)]
        status, err = await post(client, f"{base}/parts/2/split", {"parts": [400, 400]})
        assert (status, err["error"]["field"]) == (409, "part")
        status, err = await post(client, f"{base}/parts/2/reprint", {"clerk": "M001"})
        assert (status, err["error"]["field"]) == (404, "part")
        status, out = await post(client, f"{base}/parts/3/reprint",
                                 {"clerk": "M001", "reason": "卡片被油污"})
        assert status == 201, out
        assert out["cards"][0]["job"].endswith(f"-3-r{out['seq']}")
        await eventually(lambda: len(model.labels) == 3 + 2 + 1)
    assert cards(model) == [encode_flow_card(no, n, of, q) for n, of, q in (
        (1, 3, 1000), (2, 3, 800), (3, 3, 600), (4, 5, 500), (5, 5, 300), (3, 3, 600))]
    # The reprint carries the same code, and its rendering differs (补打 on it).
    assert render_label(model.labels[5]).tobytes() != render_label(model.labels[2]).tobytes()
    assert [r["body"].get("replaces") for r in records(db, "split")] == [None, 2]
    (reprint,) = audits(db, "flow_card.reprint")
    assert reprint["actor"] == "M001" and "补打" in reprint["detail"]
    assert "卡片被油污" in reprint["detail"]


def texts(doc: LabelDocument) -> list[str]:
    """The text elements of a label."""
    return [e.text for e in doc.elements if isinstance(e, Text)]


def test_a_reprinted_card_says_so() -> None:
    data = {"task_no": "SC-20261129-001", "split": "3/13", "product_code": "CP-8801",
            "product_name": "不锈钢门铰链 组件", "qty": 80, "route": ["下料", "冲压"],
            "date": "2026-11-29"}
    for size in ("60x40", "100x70"):
        plain = build_template("flow_card", {**data, "size": size})
        again = build_template("flow_card", {**data, "size": size, "reprint": True})
        assert "补打" in texts(again) and "补打" not in texts(plain)
        profile = get_profile("tspl-203")
        (label,) = interpret(encode_label(again, profile), profile)
        (code,) = {r.text for r in zxingcpp.read_barcodes(render_label(label).convert("L"))}
        assert parse_flow_card(code).split == 3
    with pytest.raises(InvalidInput) as e:
        build_template("flow_card", {**data, "reprint": "yes"})
    assert e.value.field == "data.reprint"
