"""The simulated scales on real ptys, read back through pyserial and the parser."""

from __future__ import annotations

import time

import pytest
import serial

from drivers import InvalidInput
from drivers.scale import Reading, ScaleParser
from drivers.sim.scale import ScaleSim


def _until(port: serial.Serial, parser: ScaleParser, sim: ScaleSim, grams: int) -> None:
    for _ in range(500):
        if _next(port, parser, sim, "stable").grams == grams:
            return
    raise AssertionError(f"never read {grams} g")


def _next(port: serial.Serial, parser: ScaleParser, sim: ScaleSim,
          want: str | None = None) -> Reading:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if parser.protocol.mode == "poll":
            port.write(parser.protocol.poll)
        for r in parser.feed(port.read(64)):
            if want is None or r.status == want:
                return r
    raise AssertionError("no reading")


@pytest.mark.parametrize("protocol", ["toledo-8217", "ad-continuous", "yousheng-jcs"])
def test_weight_status_tare_and_zero(protocol: str) -> None:
    with ScaleSim(protocol, grams=1234, interval_s=0.02) as sim:
        port = serial.Serial(sim.port, timeout=0.05)
        parser = ScaleParser(sim.protocol)
        assert _next(port, parser, sim, "stable") == Reading("stable", 1234)
        sim.set(status="motion")
        assert _next(port, parser, sim, "motion").status == "motion"
        sim.set(grams=2500, status="stable")
        if not sim.protocol.tare:  # the JCS-B frame family takes no commands
            assert _next(port, parser, sim, "stable") == Reading("stable", 2500)
            return
        port.write(sim.protocol.tare)
        _until(port, parser, sim, 0)  # the tare took 2500 g off
        sim.set(grams=3000)
        _until(port, parser, sim, 500)
        port.write(sim.protocol.zero)
        _until(port, parser, sim, 0)
        sim.set(grams=800)
        _until(port, parser, sim, 800)  # zeroing cleared the tare too
        port.close()


def test_unknown_protocol_and_bad_status_are_refused() -> None:
    with pytest.raises(InvalidInput):
        ScaleSim("no-such-scale")
    with ScaleSim("ad-continuous") as sim, pytest.raises(InvalidInput):
        sim.set(status="wobbly")
