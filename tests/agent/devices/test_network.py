"""Zeroconf on loopback only: the box advertises itself and finds a network printer."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from zeroconf import ServiceInfo

from agent.devices.network import BOX_SERVICE, NetworkDiscovery, box_service_info
from agent.devices.report import PRINTER_SERVICES
from drivers.sim.printer import SimEscposPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import eventually, free_port
from tests.agent.devices.conftest import daemon_client, devices_config

LOOPBACK = ["127.0.0.1"]


def bound_only_to_loopback(nd: NetworkDiscovery) -> bool:
    """Every socket zeroconf sends from is bound to 127.0.0.1 and multicasts through it."""
    senders = nd.zeroconf.engine.senders
    assert senders, "zeroconf has no sending socket"
    for sender in senders:
        sock: socket.socket = sender.sock
        mif = socket.inet_ntoa(sock.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4))
        if sock.getsockname()[0] != "127.0.0.1" or mif != "127.0.0.1":
            return False
    return True


@pytest.fixture
def shop_printer() -> Iterator[TcpShell]:
    with TcpShell(SimEscposPrinter()) as shell:
        yield shell


def printer_advert(uid: str, port: int) -> ServiceInfo:
    """What a network receipt printer announces: raw printing on `port`, its 1284 command set."""
    return ServiceInfo(PRINTER_SERVICES[0], f"XP-80 前台 {uid}.{PRINTER_SERVICES[0]}",
                       addresses=[socket.inet_aton("127.0.0.1")], port=port,
                       properties={"ty": "Xprinter XP-80", "usb_CMD": "ESC/POS", "pdl": "raw"},
                       server=f"xp80-{uid}.local.")


async def test_the_box_advertisement_is_found_on_loopback_and_withdrawn(tmp_path: Path) -> None:
    box_id = f"CQ-TEST-{uuid.uuid4().hex[:8]}"
    advertiser = NetworkDiscovery(LOOPBACK, advertise=box_service_info(
        box_id, 8471, LOOPBACK, "重庆江北建材旗舰店"))
    browser = NetworkDiscovery(LOOPBACK, types=[BOX_SERVICE])
    await advertiser.start()
    await browser.start()
    try:
        assert bound_only_to_loopback(advertiser) and bound_only_to_loopback(browser)

        def mine() -> list[Any]:
            return [s for s in browser.services() if s.txt.get("id") == box_id]
        await eventually(lambda: bool(mine()), what="the box advertisement")
        (svc,) = mine()
        assert svc.name == f"{box_id}.{BOX_SERVICE}" and (svc.host, svc.port) == ("127.0.0.1",
                                                                                  8471)
        assert svc.txt == {"id": box_id, "port": "8471", "store": "重庆江北建材旗舰店"}
        await advertiser.close()
        await eventually(lambda: not mine(), what="the goodbye")
    finally:
        await advertiser.close()
        await browser.close()


async def test_the_daemon_matches_an_advertised_printer_and_advertises_itself(
        tmp_path: Path, shop_printer: TcpShell) -> None:
    uid = uuid.uuid4().hex[:8]
    box_id, api_port = f"CQ-JB-{uid}", free_port()
    printer = NetworkDiscovery(LOOPBACK, advertise=printer_advert(uid, shop_printer.port))
    cfg = devices_config(tmp_path, printers=[{
        "id": "front", "name": "前台小票机", "profile": "generic-cn-80", "transport": "tcp",
        "host": "127.0.0.1", "port": shop_printer.port}],
        discovery={"usb": False, "serial": False, "uevents": False, "zeroconf": True,
                   "rescan_interval_s": 0.2}, box_id=box_id, api_port=api_port)
    browser = NetworkDiscovery(LOOPBACK, types=[BOX_SERVICE])
    await printer.start()
    await browser.start()
    try:
        async with daemon_client(cfg) as (ctx, client):
            assert ctx.devices is not None and ctx.devices.network is not None
            assert bound_only_to_loopback(ctx.devices.network)

            async def front_matched() -> bool:
                body = await (await client.get("/v1/devices?rescan=1")).json()
                (front,) = [c for c in body["configured"] if c["ref"] == "printers.front"]
                return bool(front["state"] == "matched" and uid in front["why"])
            await eventually(front_matched, what="the network printer matched")
            body = await (await client.get("/v1/devices")).json()
            (net,) = [f for f in body["found"] if f["key"] == "net:127.0.0.1"]
            assert net["kind"] == "printer" and net["detail"] == "escpos"
            assert "printers.front" in net["configured_as"]
            assert body["sources"]["network"] == "ok: zeroconf on 127.0.0.1"
            await eventually(lambda: any(s.txt.get("id") == box_id and s.port == api_port
                                         for s in browser.services()),
                             what="the daemon's own advertisement")
    finally:
        await printer.close()
        await browser.close()
