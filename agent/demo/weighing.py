"""The weighing part of `storelink demo`: bulk screws on a simulated scale, weighed and sold.

The demo starts a `ScaleSim` (a pty speaking the continuous `ST,GS,+0001.234kg` protocol), adds
`scale_toml(sim.port)` to the daemon's configuration, and once the daemon is up calls
`run_weighing_demo`: the goods go on the platter (the scale wobbles: 409 在晃动), settle, are
weighed through GET /v1/scales/{id}/weight and sold by weight on the signed journal, the
receipt printing 重量 1.234kg × ¥25.80/kg.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent.demo.world import Http
from drivers.sim.scale import ScaleSim

SCALE_ID = "bench"
ITEM = {"sku": "JC-1003S", "name": "十字沉头自攻螺丝 M4×30 散装", "unit": "kg",
        "unit_price_per_kg": 2580}
"""The catalogue's boxed screws (JC-1003) sold loose by the kilo at ¥25.80/kg."""
GRAMS = 1234


def scale_toml(device: str) -> str:
    """The [[scales]] block for the simulated scale on `device`, and the barcode-scale layouts."""
    return (f'\n[[scales]]\nid = "{SCALE_ID}"\nname = "五金称重台 (模拟串口秤)"\n'
            f'device = "{device}"\nprotocol = "ad-continuous"\n'
            '\n[[variable_measure]]\nlayout = "21 PPPPP VVVVV C"\n'
            '\n[[variable_measure]]\nlayout = "22 PPPPP WWWWW C"\n')


def _weight(box: Http, timeout_ms: int) -> tuple[int, dict[str, Any]]:
    status, body = box.call("GET", f"/v1/scales/{SCALE_ID}/weight?stable=true"
                                   f"&timeout_ms={timeout_ms}")
    return status, body if isinstance(body, dict) else {}


def _wait_reading(box: Http, status: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        _, listing = box.call("GET", "/v1/scales")
        scales = listing.get("scales", []) if isinstance(listing, dict) else []
        if any(s.get("id") == SCALE_ID and s.get("state") == "online"
               and (s.get("reading") or {}).get("status") == status for s in scales):
            return
        time.sleep(0.1)


def run_weighing_demo(box: Http, sim: ScaleSim, say: Callable[[str], None], *,
                      printer: str | None = "front", timeout: float = 30.0
                      ) -> tuple[int, dict[str, Any]]:
    """Weigh the screws on `sim` and sell them; (grams weighed, the sale's answer)."""
    deadline = time.monotonic() + timeout
    sim.set(grams=GRAMS + 37, status="motion")
    _wait_reading(box, "motion", deadline)  # the screws are still sliding on the platter
    status, body = _weight(box, 400)
    reason = body.get("error", {}).get("reason") if status != 200 else body.get("grams")
    say(f"  screws poured onto the scale; GET /v1/scales/{SCALE_ID}/weight → {status} {reason}")
    sim.set(grams=GRAMS, status="stable")
    status, body = _weight(box, int(timeout * 1000))
    grams = int(body.get("grams", 0)) if status == 200 else 0
    say(f"  the scale settles → {status} {grams} g")
    sale: dict[str, Any] = {
        "order": "XS-20261129-0104", "clerk": "C001", "till": "T1",
        "lines": [{**ITEM, "weight_g": grams}],
        "payments": [{"method": "cash", "amount": (grams * 2580 + 500) // 1000}]}
    if printer is not None:
        sale["print"] = {"printer": printer, "receipt": {"footer": ["称重商品 按实际重量计价"]}}
    status, answer = box.call("POST", "/v1/sales", sale, {"Idempotency-Key": "T1-weighed-0104"})
    out = answer if isinstance(answer, dict) else {}
    fen = sale["payments"][0]["amount"]
    say(f"  POST /v1/sales {sale['order']}: {grams // 1000}.{grams % 1000:03d} kg × ¥25.80/kg "
        f"= ¥{fen // 100}.{fen % 100:02d} → {status} seq {out.get('seq')}")
    job = out.get("print_job")
    if isinstance(job, dict):
        path = "/v1/print-jobs/" + str(job.get("id"))
        say(f"  receipt {job.get('id')}: {box.wait(path, {'printed', 'failed', 'expired'})}")
    return grams, out
