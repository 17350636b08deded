"""Print jobs through the box: label injection against a running API and a simulated TSPL
printer, copies in label previews, and `storelink print render`'s errors and exit codes."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from agent.cli import main
from agent.printing.jobs import parse_job, render_job
from agent.printing.preview import MAX_PREVIEW_DOTS, MAX_PREVIEW_LABELS, preview_png
from agent.printing.queue.lifecycle import JobState
from drivers.print_budget import JobTooLarge
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import agent_client, box_config, eventually

ATTACK = 'X"\r\nCLS\r\nPRINT 1,999\r\nREM "'


def qr_job(job_id: str, data: str, copies: int = 1) -> dict[str, Any]:
    return {"id": job_id, "printer": "labels", "document": {
        "width": 60, "height": 40, "copies": copies, "elements": [
            {"type": "text", "x": 2, "y": 2, "text": "川味小馆 备货"},
            {"type": "qr", "x": 30, "y": 8, "data": data, "size": 28}]}}


def scanned(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img.convert("L"))]


@pytest.fixture
def tspl() -> Iterator[tuple[SimTsplPrinter, TcpShell]]:
    model = SimTsplPrinter(get_profile("tspl-203"))
    shell = TcpShell(model)
    shell.start()
    yield model, shell
    shell.stop()


async def test_tspl_injection_through_the_api_prints_one_label_not_999(
        tmp_path: Path, tspl: tuple[SimTsplPrinter, TcpShell]) -> None:
    model, shell = tspl
    cfg = box_config(tmp_path, {"labels": shell.port}, profile="tspl-203")
    async with agent_client(cfg) as (ctx, client):
        r = await client.post("/v1/print-jobs", json=qr_job("inject-1", ATTACK))
        assert r.status == 400
        assert (await r.json())["error"] == {"field": "document.elements[1].data",
                                             "reason": "contains the control character U+000D"}
        assert await ctx.queue.get("inject-1") is None
        # Quotes and command words without a line end stay data: one label, its QR intact.
        sly = 'X",0,"\\["]PRINT 1,999'
        r = await client.post("/v1/print-jobs", json=qr_job("inject-2", sly))
        assert r.status == 202, await r.text()

        async def printed() -> bool:
            job = await ctx.queue.get("inject-2")
            return job is not None and job.state is JobState.PRINTED
        await eventually(printed, what="the label printed")
    assert [label.copies for label in model.labels] == [1]
    assert model.notices == [] and b"PRINT 1,999\r" not in bytes(model.received)
    assert scanned(model.render(0)) == [sly]


@pytest.mark.parametrize("profile", ["tspl-203", "zpl-300-cjk"])
def test_a_label_preview_shows_each_copy_one_below_the_other(profile: str) -> None:
    p = get_profile(profile)
    data = render_job(parse_job(qr_job("c-2", "XS-20261129-0043", copies=2)), p).data
    with Image.open(io.BytesIO(preview_png(data, p))) as img:
        sheet = img.convert("L")
    label_h, gap = round(40 * p.dpi / 25.4), round(2 * p.dpi / 25.4)
    width = round(60 * p.dpi / 25.4)
    assert sheet.size == (width, 2 * label_h + gap)
    top = sheet.crop((0, 0, width, label_h))
    bottom = sheet.crop((0, label_h + gap, width, 2 * label_h + gap))
    assert top.tobytes() == bottom.tobytes()
    assert scanned(top) == scanned(bottom) == ["XS-20261129-0043"]
    # 999 copies: the sheet stops at the preview bound (the first label always shows).
    many = render_job(parse_job(qr_job("c-999", "XS-1", copies=999)), p).data
    with Image.open(io.BytesIO(preview_png(many, p))) as img:
        assert img.width * img.height <= MAX_PREVIEW_DOTS + 999 * gap * width
        assert img.height > 2 * label_h


def write_job(tmp_path: Path, job: dict[str, Any]) -> str:
    path = tmp_path / f"{job['id']}.json"
    path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
    return str(path)


def png_b64(width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("1", (width, height), 1).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


def test_print_render_exit_codes_and_error_format(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.bin"
    args = ["--profile", "generic-cn-80", "--format", "escpos", "-o", str(out)]
    ok = write_job(tmp_path, {"id": "ok-1", "printer": "front", "document": {
        "blocks": [{"type": "text", "text": "会员日"}]}})
    assert main(["print", "render", ok, *args]) == 0
    assert out.read_bytes().startswith(b"\x1b@")
    out.unlink()
    capsys.readouterr()
    # The audit's bomb: refused from the PNG headers, exit 3, nothing written.
    tall = png_b64(576, 8000)
    bomb = write_job(tmp_path, {"id": "bomb", "printer": "front", "document": {
        "blocks": [{"type": "image", "png": tall} for _ in range(1999)]}})
    assert main(["print", "render", bomb, *args]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: document.blocks[3].png: the images of this document decode "
                          "to more than 16000000 pixels"), err
    assert not out.exists()
    # Bad input: exit 2, `error: FIELD: REASON`.
    bad = write_job(tmp_path, {"id": "bad", "printer": "front", "document": {
        "blocks": [{"type": "barcode", "symbology": "EAN13", "data": "6901234500017"}]}})
    assert main(["print", "render", bad, *args]) == 2
    assert capsys.readouterr().err == ("error: document.blocks[0].data: EAN13 check digit is "
                                       "wrong (expected 1)\n")
    # The output cannot be written: exit 1.
    assert main(["print", "render", ok, *args[:-1], str(tmp_path / "no" / "out.bin")]) == 1
    assert capsys.readouterr().err.startswith("error: --output: ")


def test_a_template_too_large_to_print_names_data() -> None:
    name = "不锈钢合页 4寸 加长加厚型号特别长的名字用于换行测试" * 3
    lines = [{"sku": f"JC-{i:05d}", "name": name, "spec": "304 / 2.5mm", "unit": "片",
              "location": f"A-{i:05d}", "qty": 40} for i in range(500)]
    job = parse_job({"id": "pl-500", "printer": "front", "template": "picking_list", "data": {
        "salesperson": {"id": "S101", "name": "张伟"}, "route": "江北-观音桥线",
        "warehouse": "重庆江北仓", "time": "2026-11-29T08:30:00+08:00",
        "orders": [{"order_no": "XS-20261129-0041",
                    "customer": {"id": "K002", "name": "永盛五金店"}, "lines": lines}]}})
    # Every line of a raster printer is a bitmap: 5 m of raster is more than a document may be.
    with pytest.raises(JobTooLarge) as e:
        render_job(job, get_profile("raster-80"))
    assert e.value.field == "data"
    assert e.value.reason.startswith("the picking_list is too large to print (document.blocks[")
    assert "40000 raster rows" in e.value.reason
    # A printer with Chinese in its font prints it as text.
    assert render_job(job, get_profile("generic-cn-80")).data


def test_a_preview_of_a_flood_of_labels_stops_at_its_bounds() -> None:
    p = get_profile("tspl-203")
    flood = b"SIZE 2 mm,2 mm\r\nCLS\r\nBAR 0,0,4,4\r\n" + b"PRINT 999999,999999\r\n" * 2000
    with Image.open(io.BytesIO(preview_png(flood, p))) as img:
        assert img.size == (16, MAX_PREVIEW_LABELS * (16 + 16) - 16)  # 16-dot labels and gaps
    big = b"SIZE 100 mm,100 mm\r\nCLS\r\nBAR 0,0,4,4\r\nPRINT 1,999\r\n"
    with Image.open(io.BytesIO(preview_png(big, p))) as img:
        assert img.width * img.height <= MAX_PREVIEW_DOTS
