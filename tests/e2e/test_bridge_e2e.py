"""A regional broker bridged to the central one (systemd/mosquitto-storelink-bridge.conf): the box
on the regional mosquitto, HQ on the central one, the bridge through a cut-proxy. Cutting and
restoring the bridge while the box sells and HQ sends print jobs loses and doubles nothing at
HQ, and every job prints once. Real processes: two mosquittos, `hq run`, the box, a printer."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.broker import Broker
from tests.e2e.world import World, job, wait_for
from tests.hq.journals import BOX

pytestmark = pytest.mark.timeout(600)
EXAMPLE = Path(__file__).resolve().parents[2] / "systemd" / "mosquitto-storelink-bridge.conf"
TLS = ("bridge_cafile", "bridge_certfile", "bridge_keyfile")


def bridge_lines(central_port: int) -> list[str]:
    """The example bridge's settings, aimed at 127.0.0.1:`central_port` without TLS."""
    out = []
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith(TLS):
            continue
        if line.startswith("address "):
            line = f"address 127.0.0.1:{central_port}"
        elif line.startswith("restart_timeout "):
            line = "restart_timeout 1 2"  # reconnect within seconds of the restore
        out.append(line)
    return out


def regional_broker(workdir: Path, central_port: int) -> Broker:
    """A persistent mosquitto (as tests.e2e.broker.Broker) with the example bridge added."""
    b = Broker(workdir)
    b.conf.write_text(b.conf.read_text() + "\n".join(bridge_lines(central_port)) + "\n")
    return b


def online(w: World) -> bool:
    status, view = w.api("GET", f"/v1/boxes/{BOX}")
    return status == 200 and bool(view["online"])


def state(w: World, job_id: str) -> str:
    status, view = w.api("GET", f"/v1/print-jobs/{job_id}")
    return str(view["state"]) if status == 200 else ""


def test_the_example_bridge_holds_the_settings_the_test_relies_on() -> None:
    lines = bridge_lines(1883)
    for needed in ("cleansession false", "topic storelink/v1/box/+/up/# out 1",
                   "topic storelink/v1/box/+/down/# in 1", "address 127.0.0.1:1883"):
        assert needed in lines


def test_cutting_the_bridge_loses_and_doubles_nothing(tmp_path: Path) -> None:
    with World(tmp_path, keepalive=5, telemetry_s=2) as w:
        # w.broker is the central broker; w.proxy in front of it carries the bridge only.
        regional = regional_broker(tmp_path / "regional", w.proxy.port)
        regional.start()
        try:
            run(w, regional)
        finally:
            regional.stop()


def run(w: World, regional: Broker) -> None:
    config = w.write_box_config(regional.port, 5, 2)
    w.start_box(sales=1500, every_ms=8, config=config)
    wait_for(lambda: online(w) and w.proxy.connections > 0, 120, "box online through the bridge")
    posted: list[str] = []
    stop = threading.Event()

    def post_jobs() -> None:
        n = 0
        while not stop.is_set():
            jid = f"bridge-{n:03d}"
            status, _ = w.api("POST", "/v1/print-jobs", {"box": BOX, "job": job(jid)})
            assert status == 201, status
            posted.append(jid)
            n += 1
            stop.wait(0.15)

    poster = threading.Thread(target=post_jobs, daemon=True)
    poster.start()
    cuts = 0
    try:
        for _ in range(3):
            time.sleep(1.5)
            w.proxy.cut()
            cuts += 1
            time.sleep(2.5)  # the box sells and HQ sends jobs while the bridge is down
            w.proxy.restore()
            wait_for(lambda: w.proxy.connections > 0, 60, "bridge reconnected")
    finally:
        stop.set()
        poster.join(30)
    assert cuts == 3 and len(posted) > 20
    box_lines = wait_for(lambda: _settled(w), 300, "HQ holds exactly the box's journal")
    assert len(box_lines) > 1500  # genesis, sales, cosign records
    try:
        wait_for(lambda: all(state(w, j) == "printed" for j in posted), 180, "every job printed")
    except AssertionError:
        late = {j: state(w, j) for j in posted if state(w, j) != "printed"}
        raise AssertionError(f"not printed at HQ: {late}; printer: {w.printed()}") from None
    printed = Counter(w.printed())
    assert printed == dict.fromkeys(posted, 1), "a job printed twice or not at all"
    for jid in posted[:5] + posted[-5:]:
        _, view = w.api("GET", f"/v1/print-jobs/{jid}")
        states = [h["state"] for h in view["history"]]
        assert states.count("printed") == 1 and states.count("accepted") == 1, states
    assert w.api("GET", "/v1/alarms")[1]["alarms"] == []


def _settled(w: World) -> list[str] | None:
    """The box's journal once it sold everything and HQ holds exactly it, else None."""
    box = w.box_journal()
    if len(box) < 1501:
        return None
    return box if w.hq_journal() == box else None
