"""Cash drawer: kicked through its printer; its open switch (DLE EOT 1) in GET /v1/printers."""

from __future__ import annotations

from pathlib import Path

from tests.agent.conftest import SimFactory, eventually
from tests.agent.devices.conftest import daemon_client, devices_config, next_event


async def test_drawer_kick_and_open_state_from_the_printer_status(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = devices_config(tmp_path, printers=[{
        "id": "front", "name": "前台小票机", "profile": "generic-cn-80", "transport": "tcp",
        "host": "127.0.0.1", "port": shell.port}])
    async with daemon_client(cfg) as (ctx, client), client.ws_connect("/v1/events") as ws:
        front = ctx.printers["front"]
        await eventually(lambda: front.snapshot().ready, what="printer ready")
        assert front.snapshot().drawer_open is False
        r = await client.post("/v1/printers/front/drawer", json={"pin": 2})
        assert r.status == 200
        await eventually(lambda: b"\x1bp\x00" in model.received, what="ESC p on pin 2")
        model.drawer_open = True  # the cashier pulls the drawer out
        opened = await next_event(ws, "drawer")
        while not opened["open"]:  # the first reading (closed) may come after connecting
            opened = await next_event(ws, "drawer")
        assert opened["printer"] == "front"
        (front,) = (await (await client.get("/v1/printers")).json())["printers"]
        assert front["drawer_open"] is True
        model.drawer_open = False
        assert (await next_event(ws, "drawer"))["open"] is False
        one = await (await client.get("/v1/printers/front")).json()
        assert one["drawer_open"] is False
