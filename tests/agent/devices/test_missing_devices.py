"""A scanner or customer display that is not there says so in its own words, not a printer's."""

from __future__ import annotations

from pathlib import Path

from tests.agent.conftest import eventually
from tests.agent.devices.conftest import daemon_client, devices_config


async def test_missing_serial_scanner_and_display_name_themselves(tmp_path: Path) -> None:
    cfg = devices_config(
        tmp_path,
        scanners=[{"id": "till", "kind": "serial", "device": str(tmp_path / "ttyACM9")}],
        displays=[{"id": "pole", "kind": "vfd", "device": str(tmp_path / "ttyUSB9")}])
    async with daemon_client(cfg) as (ctx, client):
        assert ctx.devices is not None
        scanner = ctx.devices.scanners["till"]
        await eventually(lambda: scanner.snapshot().last_error is not None, what="a failed open")
        error = str(scanner.snapshot().last_error)
        assert "is the scanner or its USB-serial adapter plugged in?" in error, error
        assert "printer" not in error
        r = await client.post("/v1/displays/pole", json={"lines": ["合计 ￥70.00"]})
        assert r.status == 503
        reason = (await r.json())["error"]["reason"]
        assert "is the customer display or its USB-serial adapter plugged in?" in reason, reason
        assert "printer" not in reason
