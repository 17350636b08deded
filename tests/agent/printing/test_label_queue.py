"""Label printers (TSPL, ZPL) through the box's queue: render, status, hold, confirm, preview.

Simulated label printers behind real TCP sockets; the printed labels are rendered from the bytes
the simulator received and scanned back with an independent decoder (zxing-cpp).
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from agent.cli import main
from agent.daemon import running
from agent.printing.jobs import parse_job, render_job
from agent.printing.preview import preview_png
from agent.printing.queue.lifecycle import JobState, Reason
from agent.printing.status_read import read_status
from agent.printing.templates.self_test import label
from drivers import InvalidInput
from drivers.escpos.encoder import Encoded
from drivers.label import (
    build_template,
    encode_label,
    parse_flow_card,
    parse_label,
    render_label,
)
from drivers.label.drawing import ParsedLabel
from drivers.label.interpret import interpret
from drivers.printer_state import PrinterState
from drivers.profiles import get_profile
from drivers.sim.control import LabelRecorder
from drivers.sim.label_printer import SimLabelPrinter, SimTsplPrinter, SimZplPrinter
from drivers.sim.shells import TcpShell
from drivers.transports.tcp import TcpTarget, TcpTransport
from tests.agent.conftest import agent_client, box_config, eventually, receipt_job, tcp_shells

LABEL_PROFILES = ["tspl-203", "tspl-300", "tspl-203-bitmap", "zpl-203", "zpl-300-cjk"]
LabelFactory = Callable[..., "tuple[SimLabelPrinter, TcpShell]"]
FLOW = {"task_no": "SC-20261129-001", "split": "3/13", "product_code": "CP-8801",
        "product_name": "不锈钢门铰链 组件", "qty": 80, "unit": "件",
        "route": [{"step": 10, "name": "下料", "rate_fen": 5}, {"step": 20, "name": "冲压"},
                  {"step": 30, "name": "焊接"}, {"step": 40, "name": "抛光"}],
        "date": "2026-11-29"}
FLOW_QR = "SLFC1:SC-20261129-001:3/13:80:NF7NAG4D"
PRICE = {"name": "不锈钢合页 4寸", "spec": "304 / 2.5mm", "unit": "片", "price": 850,
         "member_price": 780, "barcode": "6901234500011", "sku": "JC-1001"}
SHIP = {"order_no": "XS-20261129-0041", "customer": "永盛五金店", "customer_id": "K002",
        "address": "重庆市渝北区两路镇空港大道88号", "phone": "13900139002", "parcel": "1/3",
        "route": "江北-观音桥线", "date": "2026-11-29"}
DOCUMENT = {"width": 60, "height": 40, "elements": [
    {"type": "text", "x": 2, "y": 1.5, "text": "川味小馆 备货", "bold": True},
    {"type": "qr", "x": 41, "y": 1.5, "data": "XS-20261129-0043", "size": 17.5},
    {"type": "barcode", "x": 2, "y": 20, "symbology": "CODE128", "data": "JC-6001",
     "height": 10}]}


def flow_job(job_id: str, split: int = 3, printer: str = "labels") -> dict[str, Any]:
    return {"id": job_id, "printer": printer, "template": "flow_card",
            "data": {**FLOW, "split": f"{split}/13"}}


def price_job(job_id: str, printer: str = "labels") -> dict[str, Any]:
    return {"id": job_id, "printer": printer, "template": "price_label", "data": PRICE}


def scanned(img: Image.Image) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(img.convert("L"))}


def flow_split(label: ParsedLabel) -> int:
    (text,) = scanned(render_label(label))
    return parse_flow_card(text).split


@pytest.fixture
def label_printer() -> Iterator[LabelFactory]:
    """Start simulated label printers (tspl / zpl) on free ports; all stop after the test."""
    with tcp_shells() as serve:
        def make(profile: str, state: str = "ok") -> tuple[SimLabelPrinter, TcpShell]:
            p = get_profile(profile)
            model = SimTsplPrinter(p, state) if p.language == "tspl" else SimZplPrinter(p, state)
            return model, serve(model)

        yield make


# -- rendering -------------------------------------------------------------------------------
@pytest.mark.parametrize("profile_name", LABEL_PROFILES)
def test_render_job_gives_exactly_the_label_bytes(profile_name: str) -> None:
    profile = get_profile(profile_name)
    for name, data in (("flow_card", FLOW), ("price_label", PRICE), ("shipping_label", SHIP)):
        job = parse_job({"id": f"j-{name}", "printer": "labels", "template": name, "data": data})
        assert render_job(job, profile) == Encoded(
            (encode_label(build_template(name, data), profile),), 0)
    job = parse_job({"id": "doc-1", "printer": "labels", "document": DOCUMENT})
    encoded = render_job(job, profile)
    assert encoded == Encoded((encode_label(parse_label(DOCUMENT), profile),), 0)
    (label,) = interpret(encoded.data, profile)
    assert scanned(render_label(label)) == {"XS-20261129-0043", "JC-6001"}


@pytest.mark.parametrize(("job", "profile", "field", "says"), [
    (receipt_job("r-1", "labels"), "tspl-203", "template", "receipt template"),
    (receipt_job("r-2", "labels"), "zpl-300-cjk", "template", "label templates: flow_card"),
    (flow_job("f-1"), "generic-cn-80", "template", "is a label template"),
    ({"id": "d-1", "printer": "labels", "document": {"blocks": [{"type": "text",
                                                                  "text": "会员日"}]}},
     "tspl-203", "document.blocks", "unknown field"),
    ({"id": "d-2", "printer": "labels", "document": {**DOCUMENT, "elements": [
        {"type": "text", "x": 50, "y": 2, "text": "不锈钢门铰链组件"}]}},
     "zpl-203", "document.elements[0]", "does not fit"),
    ({"id": "p-1", "printer": "labels", "template": "price_label",
      "data": {**PRICE, "barcode": "6901234500017"}}, "tspl-203", "data.barcode", "check digit"),
    ({"id": "u-1", "printer": "labels", "template": "gift_tag", "data": {}}, "tspl-203",
     "template", "unknown template"),
])
def test_jobs_for_the_wrong_kind_of_printer_name_the_field(job: dict[str, Any], profile: str,
                                                           field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as e:
        render_job(parse_job(job), get_profile(profile))
    assert e.value.field == field and says in e.value.reason, str(e.value)


def test_preview_stacks_every_label_with_a_gap() -> None:
    profile = get_profile("tspl-203")
    two = (render_job(parse_job(flow_job("a", 3)), profile).data
           + render_job(parse_job(price_job("b")), profile).data)
    with Image.open(io.BytesIO(preview_png(two, profile))) as img:
        sheet = img.convert("L")
    gap = round(2 * 203 / 25.4)
    assert sheet.size == (480, 320 + gap + 320)
    top, bottom = sheet.crop((0, 0, 480, 320)), sheet.crop((0, 320 + gap, 480, 640 + gap))
    assert scanned(top) == {FLOW_QR} and scanned(bottom) == {"6901234500011"}
    assert sheet.crop((0, 320, 480, 320 + gap)).getextrema() == (200, 200)
    with Image.open(io.BytesIO(preview_png(b"~HS", get_profile("zpl-203")))) as e:
        assert e.width == 832 and e.convert("L").getextrema() == (200, 200)


@pytest.mark.parametrize(("profile", "fmt"), [("tspl-203", "tspl"), ("zpl-203", "zpl"),
                                              ("zpl-300-cjk", "zpl")])
def test_cli_renders_label_bytes_and_png(tmp_path: Path, profile: str, fmt: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    job_file = tmp_path / "flow.json"
    job_file.write_text(json.dumps(flow_job("flow-1"), ensure_ascii=False), encoding="utf-8")
    out, png = tmp_path / f"flow.{fmt}", tmp_path / "flow.png"
    assert main(["print", "render", str(job_file), "--profile", profile, "--format", fmt,
                 "-o", str(out)]) == 0
    expected = encode_label(build_template("flow_card", flow_job("x")["data"]),
                            get_profile(profile))
    assert out.read_bytes() == expected
    assert main(["print", "render", str(job_file), "--profile", profile, "--format", "png",
                 "-o", str(png)]) == 0
    with Image.open(png) as img:
        assert scanned(img) == {FLOW_QR}
        assert img.width == round(60 * get_profile(profile).dpi / 25.4)
    other = "zpl" if fmt == "tspl" else "tspl"
    assert main(["print", "render", str(job_file), "--profile", profile, "--format", other,
                 "-o", str(out)]) == 2
    assert f"speaks {fmt}" in capsys.readouterr().err


# -- status ----------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["tspl-203", "zpl-203"])
@pytest.mark.parametrize(("state", "expected"), [
    ("ok", PrinterState.OK), ("paper_out", PrinterState.PAPER_OUT),
    ("head_open", PrinterState.COVER_OPEN), ("ribbon_out", PrinterState.RIBBON_OUT),
    ("paused", PrinterState.PAUSED)])
def test_read_status_asks_in_the_printers_language(label_printer: LabelFactory, profile: str,
                                                   state: str, expected: PrinterState) -> None:
    model, shell = label_printer(profile, state)
    t = TcpTransport(TcpTarget("127.0.0.1", shell.port, 1.0, 2.0))
    t.open()
    try:
        status = read_status(t, 1.0, 1.0, get_profile(profile).language)
    finally:
        t.close()
    assert status.state is expected and status.ready == (state == "ok")
    assert model.queries == (["!?"] if profile.startswith("tspl") else ["~HS"])


def _one_shot_server(reply: bytes) -> tuple[socket.socket, threading.Thread]:
    """A printer that answers anything with `reply` (b"": never answers)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            if conn.recv(64) and reply:
                conn.sendall(reply)
            conn.recv(64)  # until the client closes

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize(("language", "reply", "expected", "detail"), [
    ("tspl", b"", PrinterState.OFFLINE, "no reply"),
    ("zpl", b"", PrinterState.OFFLINE, "no reply"),
    ("zpl", b"\x02030,1\x03\r\n", PrinterState.OFFLINE, "no reply"),  # 1 of 3 strings
    ("zpl", b"\x02a\x03\r\n\x02b\x03\r\n\x02c\x03\r\n", PrinterState.ERROR, "invalid status"),
])
def test_silence_is_offline_and_nonsense_is_an_error(language: str, reply: bytes,
                                                     expected: PrinterState,
                                                     detail: str) -> None:
    listener, thread = _one_shot_server(reply)
    with listener:
        t = TcpTransport(TcpTarget("127.0.0.1", listener.getsockname()[1], 1.0, 2.0))
        t.open()
        try:
            status = read_status(t, 0.3, 0.3, language)
        finally:
            t.close()
        thread.join(10)
    assert status.state is expected and status.detail[0].startswith(detail)


# -- through the queue -----------------------------------------------------------------------
@pytest.mark.parametrize("profile", ["tspl-203", "zpl-203", "zpl-300-cjk"])
async def test_flow_card_and_price_label_print_and_scan_back(
        tmp_path: Path, label_printer: LabelFactory, profile: str) -> None:
    model, shell = label_printer(profile)
    cfg = box_config(tmp_path, {"labels": shell.port}, profile=profile)
    async with agent_client(cfg) as (ctx, client):
        for job in (flow_job("flow-1"), price_job("price-1")):
            r = await client.post("/v1/print-jobs", json=job)
            assert r.status == 202, await r.text()

        async def printed() -> bool:
            jobs = [await ctx.queue.get(i) for i in ("flow-1", "price-1")]
            return all(j is not None and j.state is JobState.PRINTED for j in jobs)
        await eventually(printed, what="both labels printed")
    assert len(model.labels) == 2 and not model.rejected
    assert scanned(model.render(0)) == {FLOW_QR}
    assert scanned(model.render(1)) == {"6901234500011"}
    received = bytes(model.received)
    for job in (flow_job("flow-1"), price_job("price-1")):
        data = render_job(parse_job(job), get_profile(profile)).data
        assert received.count(data) == 1
    assert model.notices == []


@pytest.mark.parametrize(("profile", "state", "expected"), [
    ("tspl-203", "paper_out", PrinterState.PAPER_OUT),
    ("tspl-203", "head_open", PrinterState.COVER_OPEN),
    ("tspl-203-bitmap", "ribbon_out", PrinterState.RIBBON_OUT),
    ("tspl-203", "paused", PrinterState.PAUSED),
    ("zpl-203", "paper_out", PrinterState.PAPER_OUT),
    ("zpl-203", "head_open", PrinterState.COVER_OPEN),
    ("zpl-300-cjk", "ribbon_out", PrinterState.RIBBON_OUT),
])
async def test_a_label_printer_that_is_not_ready_holds_the_queue_then_prints_in_order(
        tmp_path: Path, label_printer: LabelFactory, profile: str, state: str,
        expected: PrinterState) -> None:
    model, shell = label_printer(profile, state)
    cfg = box_config(tmp_path, {"labels": shell.port}, profile=profile)
    async with agent_client(cfg) as (ctx, client):
        for i, split in enumerate((3, 4, 5)):
            r = await client.post("/v1/print-jobs", json=flow_job(f"held-{i}", split))
            assert r.status == 202, await r.text()

        async def shown() -> bool:
            (p,) = (await (await client.get("/v1/printers")).json())["printers"]
            return bool(p["state"] == expected.value and p["queue_depth"] == 3)
        await eventually(shown, what=f"{state} on GET /v1/printers")
        sup = ctx.printers["labels"]
        polled = sup.snapshot().checked_ms or 0
        await eventually(lambda: (sup.snapshot().checked_ms or 0) > polled,
                         what="another status poll")
        (p,) = (await (await client.get("/v1/printers")).json())["printers"]
        assert (p["ready"], p["connected"], p["printing"]) == (False, True, None)
        assert not model.labels and not model.rejected  # nothing was sent
        assert {j.state for j in await ctx.queue.list_jobs()} == {JobState.QUEUED}

        model.state = "ok"

        async def printed() -> bool:
            return [j.state for j in await ctx.queue.list_jobs()] == [JobState.PRINTED] * 3
        await eventually(printed, what="the held labels")
        (p,) = (await (await client.get("/v1/printers")).json())["printers"]
        assert (p["state"], p["ready"], p["queue_depth"]) == ("ok", True, 0)
    assert [flow_split(label) for label in model.labels] == [3, 4, 5]
    assert not model.rejected


@pytest.mark.parametrize(("profile", "state", "reason"), [
    ("tspl-203", "ribbon_out", Reason.RIBBON_OUT),
    ("zpl-203", "head_open", Reason.COVER_OPEN),
    ("zpl-203", "paper_out", Reason.PAPER_OUT),
    ("tspl-203", "paused", Reason.OFFLINE),
])
async def test_a_label_is_confirmed_only_by_a_ready_status_after_it(
        tmp_path: Path, profile: str, state: str, reason: Reason) -> None:
    p = get_profile(profile)
    model = SimTsplPrinter(p) if p.language == "tspl" else SimZplPrinter(p)

    def run_out(n: int, label: ParsedLabel, printed: bool, data: bytes) -> None:
        model.state = state  # the label came out, then the condition started

    with TcpShell(LabelRecorder(model, run_out)) as shell:
        async with running(box_config(tmp_path, {"labels": shell.port}, profile=profile)) as ctx:
            await ctx.queue.submit(parse_job({**price_job("price-1"), "copies": 3}))

            async def failed() -> bool:
                j = await ctx.queue.get("price-1")
                return j is not None and j.state is JobState.FAILED
            await eventually(failed, what="the unconfirmed label to fail")
            job = await ctx.queue.get("price-1")
            assert job is not None and (job.reason, job.copies_done) == (reason, 0)
            assert ctx.printers["labels"].snapshot().ready is False
    assert len(model.labels) == 1 and scanned(model.render(0)) == {"6901234500011"}


async def test_a_bad_label_job_is_refused_at_submit(tmp_path: Path,
                                                    label_printer: LabelFactory) -> None:
    _, shell = label_printer("tspl-203")
    cfg = box_config(tmp_path, {"labels": shell.port}, profile="tspl-203")
    async with agent_client(cfg) as (ctx, client):
        r = await client.post("/v1/print-jobs", json=receipt_job("r-1", "labels"))
        assert r.status == 400
        assert (await r.json())["error"]["field"] == "template"
        raw = {"id": "raw-1", "printer": "labels",
               "raw": base64.b64encode(render_job(parse_job(flow_job("x")),
                                                  get_profile("tspl-203")).data).decode()}
        assert (await client.post("/v1/print-jobs", json=raw)).status == 202
        assert await ctx.queue.get("r-1") is None


def test_self_test_on_a_label_printer_is_a_label_that_renders() -> None:
    data = {"box_id": "CQ-JB-001-B1", "printer_id": "workshop", "addresses": ["127.0.0.1"],
            "time": "2026-11-29T08:00:00+08:00", "url": "http://127.0.0.1:8470/"}
    for name in ("tspl-203", "zpl-300-cjk"):
        profile = get_profile(name)
        job = parse_job({"id": "st-1", "printer": "workshop", "document": label(data, name)})
        png = preview_png(render_job(job, profile).data, profile)
        with Image.open(io.BytesIO(png)) as img:
            assert {r.text for r in zxingcpp.read_barcodes(img.convert("L"))} == {
                "http://127.0.0.1:8470/"}
