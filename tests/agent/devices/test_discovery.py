"""Discovery in the daemon with simulated USB printers: stable identities, hot-plug, self-test."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from agent.config import parse_config
from agent.devices.cli import exit_code, format_report
from agent.devices.discovery import DeviceEnv, list_serial_by_id, scan_devices
from drivers.sim.printer import SimEscposPrinter
from drivers.sim.usb_backend import SimUsbBackend, SimUsbPrinter
from tests.agent.conftest import Client, eventually, marker, raw_job
from tests.agent.devices.conftest import daemon_client, devices_config, next_event

SERIAL_A, SERIAL_B = "XP80-2024-0001", "XP80-2024-0002"
USB_DISCOVERY = {"usb": True, "serial": True, "zeroconf": False, "uevents": False,
                 "rescan_interval_s": 0.2}


def usb_printer(pid: str, serial: str, *, self_test: bool = False) -> dict[str, object]:
    return {"id": pid, "name": f"{pid} 小票机", "profile": "generic-cn-80", "transport": "usb",
            "vendor_id": 0x0416, "product_id": 0x5011, "serial": serial,
            "self_test_on_attach": self_test}


def sim(serial: str | None, port: tuple[int, ...], **kw: Any) -> SimUsbPrinter:
    return SimUsbPrinter(SimEscposPrinter(), serial=serial, port_numbers=port, **kw)


async def printed(client: Client, job_id: str) -> None:
    async def done() -> bool:
        r = await client.get(f"/v1/print-jobs/{job_id}")
        return bool((await r.json())["state"] == "printed")
    await eventually(done, what=f"{job_id} printed")


def received(p: SimUsbPrinter) -> bytes:
    model = p.model
    assert isinstance(model, SimEscposPrinter)
    return bytes(model.received)


async def configured(client: Client, rescan: bool = False) -> dict[str, dict[str, Any]]:
    body = await (await client.get("/v1/devices" + ("?rescan=1" if rescan else ""))).json()
    return {c["ref"]: c for c in body["configured"]}


async def test_identical_printers_keep_their_identities_across_reenumeration(
        tmp_path: Path) -> None:
    a, b = sim(SERIAL_A, (1,)), sim(SERIAL_B, (2,))
    backend = SimUsbBackend([a, b])
    cfg = devices_config(tmp_path, printers=[usb_printer("front", SERIAL_A),
                                             usb_printer("back", SERIAL_B)],
                         discovery=USB_DISCOVERY)
    env = DeviceEnv(usb_backend=backend, serial_dir=tmp_path / "by-id", sysfs=tmp_path / "sys")
    async with daemon_client(cfg, env) as (_, client), client.ws_connect("/v1/events") as ws:
        for job_id, printer in (("r1-front", "front"), ("r1-back", "back")):
            assert (await client.post("/v1/print-jobs", json=raw_job(job_id, printer))).status \
                == 202
            await printed(client, job_id)
        before = await configured(client, rescan=True)
        assert before["printers.front"]["device"] == f"usb:0416:5011:{SERIAL_A}@1-1"
        assert before["printers.back"]["device"] == f"usb:0416:5011:{SERIAL_B}@1-2"

        # A hub reset: the other one enumerates first and they swap ports.
        backend.reenumerate([b, a], ports=[(1,), (2,)])
        moved = {(await next_event(ws, "device"))["key"] for _ in range(4)}
        assert moved == {f"usb:0416:5011:{SERIAL_A}@1-1", f"usb:0416:5011:{SERIAL_B}@1-2",
                         f"usb:0416:5011:{SERIAL_B}@1-1", f"usb:0416:5011:{SERIAL_A}@1-2"}
        for job_id, printer in (("r2-front", "front"), ("r2-back", "back")):
            assert (await client.post("/v1/print-jobs", json=raw_job(job_id, printer))).status \
                == 202
            await printed(client, job_id)
        after = await configured(client, rescan=True)
        listing = await (await client.get("/v1/devices")).json()
    assert after["printers.front"]["device"] == f"usb:0416:5011:{SERIAL_A}@1-2"
    assert after["printers.back"]["device"] == f"usb:0416:5011:{SERIAL_B}@1-1"
    assert after["printers.front"]["state"] == "matched"
    assert f"serial number {SERIAL_A}" in after["printers.front"]["why"]
    for p, mine, theirs in ((a, "front", "back"), (b, "back", "front")):
        got = received(p)
        assert marker(f"r1-{mine}") in got and marker(f"r2-{mine}") in got
        assert marker(f"r1-{theirs}") not in got and marker(f"r2-{theirs}") not in got
    assert listing["suggestions"] == []
    kinds = {f["key"]: (f["kind"], f["detail"], f["configured_as"]) for f in listing["found"]}
    assert kinds[f"usb:0416:5011:{SERIAL_A}@1-2"] == ("printer", "escpos", ["printers.front"])


async def self_tests(client: Client) -> list[dict[str, Any]]:
    body = await (await client.get("/v1/print-jobs?printer=front&limit=50")).json()
    return [j for j in body["jobs"] if j["label"] == "self_test"]


async def test_hotplug_publishes_attach_and_detach_and_prints_one_self_test_per_plug(
        tmp_path: Path) -> None:
    front = sim(SERIAL_A, (3,))
    backend = SimUsbBackend([front])
    backend.unplug(front)  # not there when the box starts
    cfg = devices_config(tmp_path, printers=[usb_printer("front", SERIAL_A, self_test=True)],
                         discovery=USB_DISCOVERY)
    env = DeviceEnv(usb_backend=backend, serial_dir=tmp_path / "by-id", sysfs=tmp_path / "sys")
    async with daemon_client(cfg, env) as (ctx, client), client.ws_connect("/v1/events") as ws:
        assert (await configured(client, rescan=True))["printers.front"]["state"] == "missing"
        backend.plug(front)
        attach = await next_event(ws, "device")
        assert attach["action"] == "attach" and attach["configured_as"] == ["printers.front"]
        assert attach["kind"] == "printer" and attach["key"] == f"usb:0416:5011:{SERIAL_A}@1-3"

        async def tickets(n: int) -> bool:
            jobs = await self_tests(client)
            return len(jobs) == n and all(j["state"] == "printed" for j in jobs)
        await eventually(lambda: tickets(1), what="the first self-test printed")
        assert ctx.devices is not None and ctx.devices.watcher is not None
        watcher = ctx.devices.watcher
        await eventually(lambda: not watcher.pending_self_tests, what="attach handled")
        assert len(await self_tests(client)) == 1  # the printer's own first-ready hook too

        backend.unplug(front)
        detach = await next_event(ws, "device")
        assert detach["action"] == "detach" and detach["key"] == attach["key"]
        await eventually(lambda: not ctx.printers["front"].snapshot().connected,
                         what="printer offline")
        backend.plug(front)
        assert (await next_event(ws, "device"))["action"] == "attach"
        await eventually(lambda: tickets(2), what="a second self-test after re-plugging")
        await eventually(lambda: not watcher.pending_self_tests, what="attach handled")
        assert len(await self_tests(client)) == 2


def test_report_suggestions_paste_into_a_valid_config_that_then_matches(tmp_path: Path) -> None:
    known = sim(SERIAL_A, (1,))
    spare = sim(None, (2, 4))  # no serial number: identified by its port
    scanner = sim(None, (3,), vendor_id=0x0C2E, product_id=0x0B61, interface_class=3,
                  in_ep=None, device_id=None, manufacturer="Honeywell", product="1900")
    backend = SimUsbBackend([known, spare, scanner])
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    ptys = [os.openpty(), os.openpty()]
    try:
        newland, pole_tty = (os.ttyname(slave) for _, slave in ptys)
        newland_id = by_id / "usb-Newland_NLS-HR22_SN12345-if00"
        newland_id.symlink_to(newland)
        base: dict[str, Any] = {
            "box": {"id": "CQ-JB-001-B1", "state_dir": str(tmp_path)},
            "printers": [usb_printer("front", SERIAL_A)],
            "displays": [{"id": "pole", "kind": "vfd", "device": str(tmp_path / "ttyS9")}],
            "discovery": {"zeroconf": False}}
        env = DeviceEnv(usb_backend=backend, serial_dir=by_id, sysfs=tmp_path / "sys")
        report = scan_devices(parse_config(base), env, [], 1)
        text = format_report(report)
        assert exit_code(report) == 1  # the display is missing
        states = {c.ref: c.state for c in report.configured}
        assert states == {"printers.front": "matched", "displays.pole": "missing"}
        assert [s.device for s in report.suggestions] == [
            "usb:0416:5011:@1-2.4", "usb:0c2e:0b61:@1-3", f"serial:{newland_id}"]
        assert 'port_path = "1-2.4"' in report.suggestions[0].toml
        assert 'kind = "hid"' in report.suggestions[1].toml
        assert "→ printers.front" in text and "(not configured)" in text
        # Paste the snippets (choosing "scanner" for the serial port) and scan again.
        serial_lines = report.suggestions[2].toml.splitlines()
        choice = serial_lines[1:serial_lines.index("# or a printer:")]
        pasted = tomllib.loads("\n".join(s.toml for s in report.suggestions[:2])
                               + "\n".join(line[2:] for line in choice))
        merged = {**base, "printers": base["printers"] + pasted["printers"],
                  "scanners": pasted["scanners"],
                  "displays": [{"id": "pole", "kind": "vfd", "device": pole_tty}]}
        again = scan_devices(parse_config(merged), env, [], 2)
    finally:
        for fds in ptys:
            for fd in fds:
                os.close(fd)
    assert {c.ref: c.state for c in again.configured} == {
        "printers.front": "matched", "printers.printer-1": "matched",
        "scanners.scanner-1": "matched", "scanners.scanner-2": "matched",
        "displays.pole": "present"}
    assert again.suggestions == () and exit_code(again) == 0


def test_serial_by_id_names_link_to_their_usb_device_through_sysfs(tmp_path: Path) -> None:
    sysfs, by_id, dev = tmp_path / "sys", tmp_path / "by-id", tmp_path / "dev"
    usb_dir = sysfs / "devices/pci0000:00/usb1/1-1.2"
    port = usb_dir / "1-1.2:1.0/ttyUSB0"
    port.mkdir(parents=True)
    (usb_dir / "idVendor").write_text("1a86\n")
    (sysfs / "class/tty/ttyUSB0").mkdir(parents=True)
    (sysfs / "class/tty/ttyUSB0/device").symlink_to(port)
    by_id.mkdir()
    dev.mkdir()
    (dev / "ttyUSB0").touch()
    (by_id / "usb-1a86_USB_Serial-if00-port0").symlink_to(dev / "ttyUSB0")
    (entry,) = list_serial_by_id(by_id, sysfs)
    assert entry.target == str(dev / "ttyUSB0") and entry.port_path == "1-1.2"
    assert list_serial_by_id(tmp_path / "absent", sysfs) == []
