"""The audit's memory bombs against `storelink agent run`: refused with 413 naming the block,
before anything is decoded, and the daemon stays small and answers afterwards; a cloud job from
HQ is checked the same way at the MQTT intake."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.broker import free_port
from tests.e2e.daemon_world import BOX, DaemonWorld, http
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, box_toml, wait_for

pytestmark = pytest.mark.timeout(300)
MAX_RSS_KB = 400_000  # a daemon that decoded the images would need gigabytes


def png_b64(width: int, height: int, mode: str, fill: int | tuple[int, ...]) -> str:
    out = io.BytesIO()
    Image.new(mode, (width, height), fill).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode()


def peak_rss_kb(pid: int) -> int:
    """The process's high-water resident set (VmHWM), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Proc]:
    config = tmp_path / "box.toml"
    config.write_text(box_toml(tmp_path / "state", free_port()) + f"""
[[printers]]
id = "labels"
name = "车间标签机"
profile = "tspl-203"
transport = "tcp"
host = "127.0.0.1"
port = {free_port()}
connect_timeout = 1.0
""" + NO_DISCOVERY, encoding="utf-8")
    proc = Proc(["-m", "agent", "agent", "run", "--config", str(config)],
                tmp_path / "box.log").start()
    try:
        yield proc
    finally:
        proc.stop()


def test_image_bombs_get_413_naming_the_block_and_the_daemon_stays_small(box: Proc) -> None:
    # 2,000 small PNGs that each decode to 576 × 8,000 dots (5.5 MB of JSON in the audit).
    tall = png_b64(576, 8000, "1", 1)
    receipt: dict[str, Any] = {"id": "bomb-receipt", "printer": "front", "document": {
        "blocks": [{"type": "text", "text": "会员日"}]
        + [{"type": "image", "png": tall} for _ in range(1999)]}}
    status, answer = http(box.url, "POST", "/v1/print-jobs", receipt)
    assert status == 413, (status, answer)
    assert answer["error"]["field"] == "document.blocks[4].png"
    assert "16000000 pixels" in answer["error"]["reason"]
    # A label of RGBA 4,000 × 4,000 images (the audit sent 89: 108 s of CPU).
    rgba = png_b64(4000, 4000, "RGBA", (0, 0, 0, 0))
    label = {"id": "bomb-label", "printer": "labels", "document": {
        "width": 60, "height": 40,
        "elements": [{"type": "image", "x": 0, "y": 0, "png": rgba, "width": 10}] * 40}}
    status, answer = http(box.url, "POST", "/v1/print-jobs", label)
    assert status == 413, (status, answer)
    assert answer["error"]["field"] == "document.elements[1].png"
    # Nothing was stored, the daemon still answers, and it never grew.
    assert http(box.url, "GET", "/v1/print-jobs/bomb-receipt")[0] == 404
    assert http(box.url, "GET", "/v1/print-jobs/bomb-label")[0] == 404
    assert http(box.url, "GET", "/v1/health")[0] == 200
    assert peak_rss_kb(box.pid) < MAX_RSS_KB


def test_a_cloud_job_too_costly_to_render_is_refused_at_intake(tmp_path: Path) -> None:
    """The MQTT intake checks content as the local API does: HQ learns the block at fault."""
    world = DaemonWorld(tmp_path)
    try:
        world.start_box()
        wait_for(world.online, what="box online")
        tall = png_b64(576, 8000, "1", 1)  # four of them: 18.4 million pixels
        bomb = {"id": "cloud-bomb-1", "printer": "front",
                "document": {"blocks": [{"type": "image", "png": tall}] * 4}}
        status, answer = world.hq_api("POST", "/v1/print-jobs",
                                      {"box": BOX, "printer": "front", "job": bomb})
        if status == 201:  # HQ passed it on: the box refuses it at intake
            wait_for(lambda: world.job_state("cloud-bomb-1") == "refused", what="refused")
            view = world.hq_api("GET", "/v1/print-jobs/cloud-bomb-1")[1]
            assert "document.blocks[3].png" in view["intake_error"], view
        else:  # HQ checks content with the box's rules itself
            assert status in (400, 413) and "blocks[3]" in str(answer), (status, answer)
        assert world.box_api("GET", "/v1/print-jobs/cloud-bomb-1")[0] == 404
        assert world.printed() == []
    finally:
        world.close()
