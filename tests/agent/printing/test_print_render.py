"""From a print job to the paper: every example under every built-in receipt profile.

Decoding the bytes gives back the Chinese text, no line is wider than the paper, the QR codes
and barcodes scan (an independent decoder, zxing-cpp), and bad jobs name their field.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops

from agent.cli import main
from agent.printing.jobs import INLINE_MAX_BYTES, parse_job, render_inline, render_job
from agent.printing.templates import build_document
from drivers import InvalidInput
from drivers.escpos.document import Columns, Text, parse_document
from drivers.escpos.interpreter import EscposInterpreter, decode_text
from drivers.escpos.paper_events import Line, Raster
from drivers.escpos.render import render_bytes
from drivers.escpos.textcodec import needs_raster, plan
from drivers.profiles import PrinterProfile, builtin_profiles, get_profile

JOBS = Path(__file__).resolve().parents[3] / "examples" / "jobs"
RECEIPT_PROFILES = sorted(n for n, p in builtin_profiles().items() if p.language == "escpos")
EXPECTED_TEXT = {
    "receipt": ["重庆江北建材旗舰店", "收银员: 李晓燕", "不锈钢合页", "十字沉头自攻螺丝", "应收",
                "¥528.70", "微信", "现金", "找零", "会员: 王先生", "谢谢惠顾，欢迎再次光临！"],
    "sales_slip": ["销 售 单", "客户: 永盛家装 (K003)", "E0级生态板", "净味全效墙面漆",
                   "大写: 肆仟壹佰壹拾玖元整", "客户签收"],
    "picking_list": ["拣 货 单", "线路: 江北-观音桥线", "A-01-03", "不锈钢合页", "总数量: 506",
                     "永盛装饰工程有限公司(K001)"],
    "document": ["会员日 全场九折", "静音抽屉滑轨 三节"],
}
EXPECTED_CODES = {
    "receipt": {"https://storelink.example/r/CQ-JB-001/XS-20261129-0042"},
    "sales_slip": {"XS-20261129-0042"},
    "picking_list": set(),
    "document": {"6901234500028", "https://storelink.example/m/VIP88001234"},
}


def load(name: str) -> dict[str, Any]:
    job: dict[str, Any] = json.loads((JOBS / f"{name}.json").read_text(encoding="utf-8"))
    return job


def scanned(image: Image.Image) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(image.convert("L"))}


@pytest.mark.parametrize("profile_name", RECEIPT_PROFILES)
@pytest.mark.parametrize("name", sorted(EXPECTED_TEXT))
def test_every_example_prints_right_under_every_profile(name: str, profile_name: str) -> None:
    profile = get_profile(profile_name)
    data = render_job(parse_job(load(name)), profile).data
    interp = EscposInterpreter(profile)
    interp.feed(data)
    interp.close()
    for ev in interp.events():
        if isinstance(ev, Line):
            assert sum(s.columns for s in ev.spans) <= profile.columns
        elif isinstance(ev, Raster):
            assert ev.image.width <= profile.paper_dots
    if profile.dbcs != "raster":
        # The Chinese comes back from the bytes themselves: every printed character, no more.
        printed = chars([ln for ln in decode_text(data, profile) if set(ln) not in ({"-"}, {"="})])
        sent = chars(document_texts(name, profile))
        if any(needs_raster(plan(t, profile), profile) for t in document_texts(name, profile)):
            assert not printed - sent  # lines the firmware cannot carry went as images
        else:
            assert printed == sent
        for expected in EXPECTED_TEXT[name]:
            if profile.dbcs in ("gb18030", "utf8") and profile.columns >= 48:
                assert expected in "\n".join(decode_text(data, profile)), expected
    assert EXPECTED_CODES[name] <= scanned(render_bytes(data, profile))


def document_texts(name: str, profile: PrinterProfile) -> list[str]:
    """Every text the document asks to print (rules left out: their length is the paper's)."""
    job = parse_job(load(name))
    doc = (build_document(job.template, job.body["data"], profile) if job.template
           else parse_document(job.body["document"]))
    out: list[str] = []
    for b in doc.blocks:
        if isinstance(b, Text):
            out.append(b.text)
        elif isinstance(b, Columns):
            out.extend(c.text for c in b.cells)
    return out


def chars(texts: list[str]) -> Counter[str]:
    return Counter(c for t in texts for c in t if not c.isspace())


@pytest.mark.parametrize("name", ["receipt", "sales_slip", "picking_list"])
def test_raster_receipts_look_like_native_ones(name: str) -> None:
    job = parse_job(load(name))
    native = render_bytes(render_job(job, get_profile("generic-cn-80")).data,
                          get_profile("generic-cn-80")).convert("L")
    raster = render_bytes(render_job(job, get_profile("raster-80")).data,
                          get_profile("raster-80")).convert("L")
    assert native.size == raster.size
    diff = ImageChops.difference(native, raster).getbbox()
    if name == "picking_list":
        # □ is ambiguous-width: two columns in GB18030 firmware, one when drawn as raster.
        assert diff is None or diff[2] <= 36
    else:
        assert diff is None


def _bad(name: str, path: tuple[Any, ...], value: object) -> dict[str, Any]:
    job = copy.deepcopy(load(name))
    target = job
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    return job


def _png(width: int) -> str:
    buf = io.BytesIO()
    Image.new("1", (width, 8), 0).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(("job", "field"), [
    (_bad("document", ("document", "blocks", 0, "type"), "marquee"), "document.blocks[0].type"),
    (_bad("document", ("document", "blocks", 1, "cells", 0, "width"), 60),
     "document.blocks[1].cells"),
    (_bad("document", ("document", "blocks", 3, "data"), "6901234500021"),
     "document.blocks[3].data"),
    (_bad("document", ("document", "blocks", 4),
          {"type": "image", "png": _png(700)}), "document.blocks[4].png"),
    (_bad("document", ("document", "blocks", 4), {"type": "image", "png": "not base64!"}),
     "document.blocks[4].png"),
    ({"id": "r1", "printer": "front", "raw": "%%%"}, "raw"),
    ({"id": "r1", "printer": "front"}, "template"),
    ({"id": "bad id", "printer": "front", "raw": "AA=="}, "id"),
    (_bad("receipt", ("copies",), 0), "copies"),
    (_bad("receipt", ("expires_at",), "2026-11-29 10:00"), "expires_at"),
    (_bad("receipt", ("data", "lines", 0, "qty"), -1), "data.lines[0].qty"),
])
def test_bad_jobs_name_the_field(job: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        render_job(parse_job(job), get_profile("generic-cn-80"))
    assert e.value.field == field


def test_cli_render_writes_exact_bytes_and_png(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    job_file = JOBS / "receipt.json"
    out = tmp_path / "r.bin"
    assert main(["print", "render", str(job_file), "--profile", "generic-cn-58",
                 "--format", "escpos", "-o", str(out)]) == 0
    profile = get_profile("generic-cn-58")
    assert out.read_bytes() == render_job(parse_job(load("receipt")), profile).data
    png = tmp_path / "r.png"
    assert main(["print", "render", str(job_file), "--profile", "generic-cn-58",
                 "--format", "png", "-o", str(png)]) == 0
    with Image.open(png) as img:
        assert img.width == 384
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_bad("receipt", ("data", "total"), 1)), encoding="utf-8")
    assert main(["print", "render", str(bad), "--profile", "generic-cn-58", "--format", "escpos",
                 "-o", str(out)]) == 2
    assert "data.total:" in capsys.readouterr().err
    assert main(["print", "render", str(job_file), "--profile", "nope", "--format", "escpos",
                 "-o", str(out)]) == 2


def _document(*blocks: dict[str, Any], printer: str = "front") -> dict[str, Any]:
    return {"id": "inline-1", "printer": printer, "document": {"blocks": list(blocks)}}


def _size(raw: dict[str, Any]) -> int:
    return len(json.dumps(raw, ensure_ascii=False).encode())


def test_a_small_text_job_is_rendered_inline_to_the_same_bytes() -> None:
    # The cloud intake renders such a job on the event loop instead of a thread.
    profile = get_profile("generic-cn-80")
    raw = _document({"type": "text", "text": "拣货单 重庆江北仓", "bold": True},
                    {"type": "columns", "cells": [{"text": "不锈钢合页", "width": 36},
                                                  {"text": "x 12", "width": 12, "align": "right"}]},
                    {"type": "cut"})
    job = parse_job(raw)
    render_job(job, profile)  # the first job of a process imports the renderers (on a thread)
    inline = render_inline(job, profile, _size(raw))
    assert inline is not None and inline == render_job(job, profile)


@pytest.mark.parametrize(("profile", "raw", "size"), [
    # raster text (a profile without native Chinese), an image, a label printer, a large job
    ("raster-80", _document({"type": "text", "text": "拣货单"}), None),
    ("generic-cn-80", _document({"type": "image", "png": _png(8)}), None),
    ("tspl-203", {"id": "l-1", "printer": "label", "template": "price_label",
                  "data": {"name": "不锈钢合页", "price": "12.50"}}, None),
    ("generic-cn-80", _document({"type": "text", "text": "合页"}), INLINE_MAX_BYTES + 1),
    # a QR code (its symbol costs milliseconds to compute)
    ("generic-cn-80", _document({"type": "qr", "data": "SL-1"}), None),
])
def test_a_job_that_needs_raster_or_is_large_goes_to_a_thread(
        profile: str, raw: dict[str, Any], size: int | None) -> None:
    job = parse_job(raw)
    assert render_inline(job, get_profile(profile), size or _size(raw)) is None


@pytest.mark.parametrize("name", ["sales_slip", "picking_list", "receipt", "document"])
def test_an_example_rendered_inline_is_what_a_thread_renders(name: str) -> None:
    # Whether it fits the inline CPU depends on the machine; what comes out must not.
    raw = json.loads((JOBS / f"{name}.json").read_text(encoding="utf-8"))
    profile = get_profile("generic-cn-80")
    job = parse_job({**raw, "printer": "front"})
    threaded = render_job(job, profile)
    inline = render_inline(job, profile, _size(raw))
    assert inline is None or inline == threaded


def test_a_rendering_over_its_inline_cpu_goes_to_a_thread() -> None:
    raw = _document({"type": "text", "text": "不锈钢合页 x 12"})
    assert render_inline(parse_job(raw), get_profile("generic-cn-80"), _size(raw),
                         cpu_s=0.0) is None


def test_bad_content_is_refused_inline_as_on_a_thread() -> None:
    raw = _document({"type": "text", "text": "合页", "align": "diagonal"})
    with pytest.raises(InvalidInput) as inline:
        render_inline(parse_job(raw), get_profile("generic-cn-80"), _size(raw))
    with pytest.raises(InvalidInput) as threaded:
        render_job(parse_job(raw), get_profile("generic-cn-80"))
    assert inline.value.field == threaded.value.field == "document.blocks[0].align"
