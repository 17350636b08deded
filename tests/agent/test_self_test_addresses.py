"""The self-test tells a technician where the box is: its addresses, or 仅本机 when it has none
but loopback (never "IP -"). On a label printer through the real daemon, and as templates."""

from __future__ import annotations

from pathlib import Path

from agent.api.context import local_addresses
from agent.printing.templates import build_document
from agent.printing.templates.self_test import label
from drivers.escpos.document import Text
from drivers.profiles import get_profile
from drivers.sim.label_printer import SimTsplPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import agent_client, box_config, eventually

DATA = {"box_id": "CQ-JB-001-B1", "printer_id": "workshop", "time": "2026-11-29T08:00:00+08:00",
        "url": "http://127.0.0.1:8470/"}


def _label_texts(document: dict[str, object]) -> list[str]:
    elements = document["elements"]
    assert isinstance(elements, list)
    return [str(e["text"]) for e in elements if e["type"] == "text"]


def test_the_label_names_every_address_that_fits_or_says_local_only() -> None:
    assert "IP 仅本机" in _label_texts(label({**DATA, "addresses": []}, "tspl-203"))
    assert "IP 仅本机" in _label_texts(label(DATA, "tspl-203"))
    two = _label_texts(label({**DATA, "addresses": ["192.168.1.20", "10.8.0.3"]}, "tspl-203"))
    assert "IP 192.168.1.20 10.8.0.3" in two
    assert not any(t == "IP -" for t in two)


def test_the_receipt_says_local_only_without_an_address() -> None:
    doc = build_document("self_test", {**DATA, "addresses": []}, get_profile("generic-cn-58"))
    assert "IP 地址: 仅本机" in [b.text for b in doc.blocks if isinstance(b, Text)]
    doc = build_document("self_test", {**DATA, "addresses": ["192.168.1.20"]},
                         get_profile("generic-cn-58"))
    texts = [b.text for b in doc.blocks if isinstance(b, Text)]
    assert "IP 地址: 192.168.1.20" in texts and "IP 地址: 仅本机" not in texts


async def test_a_label_self_test_from_the_daemon_shows_where_the_box_is(tmp_path: Path) -> None:
    model = SimTsplPrinter(get_profile("tspl-203"))
    with TcpShell(model) as shell:
        cfg = box_config(tmp_path, {"workshop": shell.port}, profile="tspl-203")
        async with agent_client(cfg) as (ctx, client):
            r = await client.post("/v1/printers/workshop/self-test")
            assert r.status == 202, await r.text()
            await eventually(lambda: len(model.labels) == 1, what="the self-test label")
            body = await ctx.queue.store.body((await r.json())["id"])
    assert body is not None and isinstance(body["document"], dict)
    ip = [t for t in _label_texts(body["document"]) if t.startswith("IP ")]
    addresses = local_addresses()
    want = f"IP {addresses[0]}" if addresses else "IP 仅本机"
    assert len(ip) == 1 and ip[0].startswith(want), ip
