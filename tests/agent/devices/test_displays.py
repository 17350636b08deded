"""POST /v1/displays/{id}: the exact encoder bytes reach a real pty; bad bodies change nothing."""

from __future__ import annotations

import os
import select
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.devices.displays import display_bytes
from drivers import InvalidInput
from drivers.display import price, vfd
from drivers.display.price import Lamp
from drivers.sim.display import PriceDisplayModel, VfdDisplayModel
from tests.agent.devices.conftest import daemon_client, devices_config


class Pty:
    """The display's end of the line: the test reads what the daemon wrote to the slave."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)

    def read_exactly(self, n: int, within: float = 20.0) -> bytes:
        deadline = time.monotonic() + within
        got = b""
        while len(got) < n:
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(got)} of {n} bytes arrived: {got!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                got += os.read(self.master, n - len(got))
        return got

    def nothing_more(self) -> bool:
        return not select.select([self.master], [], [], 0.0)[0]

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def pty_pair() -> Iterator[tuple[Pty, Pty]]:
    a, b = Pty(), Pty()
    yield a, b
    a.close()
    b.close()


async def test_vfd_and_price_display_get_exactly_the_encoder_bytes(
        tmp_path: Path, pty_pair: tuple[Pty, Pty]) -> None:
    pole, led = pty_pair
    cfg = devices_config(tmp_path, displays=[
        {"id": "pole", "name": "收银台客显", "kind": "vfd", "device": pole.path},
        {"id": "led", "name": "价格屏", "kind": "price", "device": led.path, "baudrate": 2400}])
    vfd_model, led_model = VfdDisplayModel(), PriceDisplayModel()
    async with daemon_client(cfg) as (_, client):
        r = await client.post("/v1/displays/pole", json={"item": {
            "name": "不锈钢合页 4寸", "qty": 4, "unit": "片", "unit_price": 850}})
        assert r.status == 200, await r.text()
        body = await r.json()
        item = vfd.show_lines("不锈钢合页 4寸", vfd.label_value("4片×8.50", "¥34.00"))
        got = pole.read_exactly(len(vfd.setup()) + len(item))
        assert got == vfd.setup() + item  # the setup goes first, once per opening
        assert body == {"display": "pole", "kind": "vfd", "bytes": len(item),
                        "shown": ["不锈钢合页 4寸" + " " * 6, "4片×8.50" + " " * 4 + "￥34.00"]}
        vfd_model.receive(got)
        assert vfd_model.lines == tuple(body["shown"])

        r = await client.post("/v1/displays/pole",
                              json={"total": 7000, "received": 10000, "change": 3000})
        assert r.status == 200
        pay = vfd.show_lines(vfd.label_value("合计", "¥70.00"), vfd.label_value("找零", "¥30.00"))
        got = pole.read_exactly(len(pay))
        assert got == pay
        vfd_model.receive(got)
        assert vfd_model.lines == ("合计" + " " * 9 + "￥70.00", "找零" + " " * 9 + "￥30.00")

        r = await client.post("/v1/displays/pole", json={"lines": ["欢迎光临", "重庆江北建材"],
                                                         "align": "center"})
        assert r.status == 200
        welcome = vfd.show_lines("欢迎光临", "重庆江北建材", align=("center", "center"))
        assert pole.read_exactly(len(welcome)) == welcome

        r = await client.post("/v1/displays/led", json={"item": {
            "name": "不锈钢合页 4寸", "unit_price": 850}})
        assert (await r.json())["shown"] == ["单价 8.50"]
        r = await client.post("/v1/displays/led", json={"total": 5300, "received": 10000})
        assert (await r.json())["shown"] == ["找零 47.00"]
        want = price.init() + price.show_amount(Lamp.UNIT_PRICE, 850) + price.show_amount(
            Lamp.CHANGE, 4700)
        got = led.read_exactly(len(want))
        assert got == want
        led_model.receive(got)
        assert (led_model.lamp, led_model.amount_fen) == (Lamp.CHANGE, 4700)

        listing = await (await client.get("/v1/displays")).json()
        assert [(d["id"], d["connected"], d["shown"]) for d in listing["displays"]] == [
            ("pole", True, ["欢迎光临".center(16), "重庆江北建材".center(14)]),
            ("led", True, ["找零 47.00"])]
    assert pole.nothing_more() and led.nothing_more()


async def test_bad_requests_send_nothing(tmp_path: Path, pty_pair: tuple[Pty, Pty]) -> None:
    pole, led = pty_pair
    cfg = devices_config(tmp_path, displays=[
        {"id": "pole", "kind": "vfd", "device": pole.path},
        {"id": "led", "kind": "price", "device": led.path},
        {"id": "gone", "kind": "vfd", "device": str(tmp_path / "no-such-tty")}])
    async with daemon_client(cfg) as (_, client):
        cases = [
            ("pole", {"total": 12.5}, "total"),
            ("pole", {"total": 7000, "received": 10000, "change": 2000}, "change"),
            ("pole", {"total": 7000, "received": 5000}, "received"),
            ("pole", {"total": 7000, "item": {"name": "合页", "unit_price": 850}}, "body"),
            ("pole", {"lines": ["a", "b", "c"]}, "lines"),
            ("pole", {"item": {"name": "合页", "unit_price": 850, "qty": 0}}, "item.qty"),
            ("pole", {"item": {"unit_price": 850}}, "item.name"),
            ("led", {"lines": ["合计"]}, "lines"),
            ("led", {"total": -1}, "total"),
            ("led", {"clear": False}, "clear"),
        ]
        for display, body, field in cases:
            r = await client.post(f"/v1/displays/{display}", json=body)
            assert r.status == 400, body
            assert (await r.json())["error"]["field"] == field, body
        r = await client.post("/v1/displays/pole", data=b"{not json")
        assert r.status == 400
        r = await client.post("/v1/displays/后厨", json={"clear": True})
        assert r.status == 404
        r = await client.post("/v1/displays/gone", json={"clear": True})
        assert r.status == 503
        assert "no-such-tty" in (await r.json())["error"]["reason"]
        r = await client.post("/v1/displays/led", json={"clear": True})
        assert r.status == 200
        cleared = price.init() + price.select_lamp(0) + price.clear()
        assert led.read_exactly(len(cleared)) == cleared
        devices = await (await client.get("/v1/devices?rescan=1")).json()
        states = {c["ref"]: c["state"] for c in devices["configured"]}
        assert states == {"displays.pole": "present", "displays.led": "present",
                          "displays.gone": "missing"}
        assert devices["sources"] == {"usb": "off", "serial": "off", "network": "off"}
    assert pole.nothing_more()


@given(st.text(max_size=40), st.text(max_size=40))
def test_lines_never_smuggle_a_command_byte(upper: str, lower: str) -> None:
    data, shown = display_bytes("vfd", {"lines": [upper, lower]})
    model = VfdDisplayModel()
    model.receive(vfd.setup() + data)
    assert model.unknown == 0 and model.cursor == (1, 1)  # exactly two full lines, nothing else
    assert model.lines == tuple(shown)


def test_money_must_be_integers_in_fen() -> None:
    with pytest.raises(InvalidInput) as e:
        display_bytes("price", {"item": {"name": "合页", "unit_price": 8.5}})
    assert e.value.field == "item.unit_price"
    with pytest.raises(InvalidInput):
        display_bytes("price", {"total": 100_000_000})
    assert display_bytes("price", {"total": 99_999_999})[0] == price.show_amount(2, 99_999_999)
