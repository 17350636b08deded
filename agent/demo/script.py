"""The scripted day of the demo: print jobs, paper out, labels, sales, cloud print, day close."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.demo.world import Http
from drivers.sim.printer import SimEscposPrinter

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"
DONE = {"printed", "failed", "unknown", "expired"}
Say = Callable[[str], None]


def job(name: str, **over: object) -> dict[str, object]:
    """An example job from examples/jobs, with fields replaced."""
    loaded: dict[str, object] = json.loads((EXAMPLES / f"{name}.json").read_text(
        encoding="utf-8"))
    loaded.update(over)
    return loaded


def state(body: object) -> str:
    """The `state` of an API answer, or its error."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            return f"{err.get('field')}: {err.get('reason')}"
        return str(body.get("state", ""))
    return ""


def morning(box: Http, warehouse: SimEscposPrinter, say: Say) -> None:
    """Receipts, a duplicate submission, paper out and back on the warehouse printer."""
    say("\n— 09:00 收银台: a receipt to the front printer (TCP 9100 simulator)")
    receipt = job("receipt")
    status, body = box.call("POST", "/v1/print-jobs", receipt)
    say(f"  POST /v1/print-jobs {receipt['id']} → {status} {state(body)}")
    status, body = box.call("POST", "/v1/print-jobs", receipt)
    say(f"  the POS retries the same job id → {status} {state(body)} (printed once, not twice)")
    ids = [str(receipt["id"])]

    say("\n— 09:05 仓库: the warehouse printer (serial pty) runs out of paper")
    warehouse.state = "paper_out"
    for name in ("sales_slip", "picking_list"):
        j = job(name)
        status, body = box.call("POST", "/v1/print-jobs", j)
        say(f"  POST {j['id']} → {status} {state(body)}")
        ids.append(str(j["id"]))
    box.wait("/v1/printers/warehouse", {"paper_out"})
    say("  printer warehouse: paper_out — its jobs wait in the queue, nothing is lost")
    say("  … paper loaded")
    warehouse.state = "ok"
    for job_id in ids:
        say(f"  {job_id}: {box.wait(f'/v1/print-jobs/{job_id}', DONE)}")


def workshop(box: Http, say: Say) -> None:
    """Flow cards and labels on the TSPL label printer."""
    say("\n— 10:30 车间: a flow card, a price label and a shipping label (TSPL simulator)")
    ids = []
    for name in ("flow_card", "price_label", "shipping_label"):
        j = job(name)
        status, body = box.call("POST", "/v1/print-jobs", j)
        say(f"  POST {j['id']} ({j['template']}) → {status} {state(body)}")
        ids.append(str(j["id"]))
    for job_id in ids:
        say(f"  {job_id}: {box.wait(f'/v1/print-jobs/{job_id}', DONE)}")


SALES: list[dict[str, Any]] = [
    {"order": "XS-20261129-0101", "clerk": "C001", "till": "T1",
     "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 8, "unit": "片",
                "unit_price": 850},
               {"sku": "JC-1003", "name": "十字沉头自攻螺丝 M4×30", "qty": 2, "unit": "盒",
                "unit_price": 1800}],
     "payments": [{"method": "cash", "amount": 10400}], "open_drawer": True},
    {"order": "XS-20261129-0102", "clerk": "C001", "till": "T1", "member": "K003",
     "lines": [{"sku": "JC-3001", "name": "净味全效墙面漆 白色 5L", "qty": 2, "unit": "桶",
                "unit_price": 39800, "discount": 3000}],
     "payments": [{"method": "wechat", "amount": 76600}]},
    {"order": "XS-20261129-0103", "clerk": "C002", "till": "T1",
     "lines": [{"sku": "JC-5002", "name": "86型五孔插座 雅白", "qty": 10, "unit": "只",
                "unit_price": 1250}],
     "payments": [{"method": "alipay", "amount": 5000}, {"method": "card", "amount": 7500}]},
]


def sales(box: Http, say: Say) -> None:
    """Three sales on the signed journal, each printing a receipt with its verification QR."""
    say("\n— 12:00 收银台: sales on the signed journal (each receipt carries a verification QR)")
    for i, sale in enumerate(SALES):
        body = {**sale, "print": {"printer": "front", "receipt": {
            "footer": ["谢谢惠顾，欢迎再次光临！"]}}}
        key = {"Idempotency-Key": f"T1-{sale['order']}"}
        status, answer = box.call("POST", "/v1/sales", body, key)
        seq = answer.get("seq") if isinstance(answer, dict) else None
        say(f"  POST /v1/sales {sale['order']} → {status} seq {seq}")
        if i == 0:
            again, answer = box.call("POST", "/v1/sales", body, key)
            replayed = answer.get("replayed") if isinstance(answer, dict) else None
            say(f"  the till retries with the same Idempotency-Key → {again}, replayed: "
                f"{replayed} (one record, one receipt)")


def cloud_print(hq: Http, box_id: str, say: Say) -> None:
    """A salesperson's phone order: HQ's API → MQTT → the warehouse printer."""
    say("\n— 14:00 云打印: a salesperson's order reaches the warehouse printer through HQ")
    j = job("picking_list", id="pick-20261129-S101-cloud-1")
    request = {"box": box_id, "printer": "warehouse", "job": j}
    status, _ = hq.call("POST", "/v1/print-jobs", request)
    say(f"  HQ POST /v1/print-jobs → {status}")
    status, _ = hq.call("POST", "/v1/print-jobs", request)
    say(f"  the phone app retries → {status} (same id: printed once)")
    path = f"/v1/print-jobs/{j['id']}"
    say(f"  state at HQ: {hq.wait(path, DONE, timeout=45)}")


def evening(box: Http, hq: Http, box_id: str, say: Say) -> None:
    """Day close with its Z report; HQ verifies the journal and countersigns it."""
    say("\n— 20:00 日结: day close, Z report on the front printer, HQ as witness")
    status, body = box.call("POST", "/v1/day-close", {"clerk": "C001", "till": "T1",
                                                      "printer": "front"})
    z = body.get("z") if isinstance(body, dict) else None
    say(f"  POST /v1/day-close → {status} Z{z}")
    pj = body.get("print_job") if isinstance(body, dict) else None
    if isinstance(pj, dict):
        path = f"/v1/print-jobs/{pj.get('id')}"
        say(f"  Z report {pj.get('id')}: {box.wait(path, DONE)}")
    _, head = box.call("GET", "/v1/journal/head")
    size = head.get("size") if isinstance(head, dict) else None
    deadline = time.monotonic() + 45
    held = None
    while time.monotonic() < deadline:
        _, view = hq.call("GET", f"/v1/boxes/{box_id}")
        hj = view.get("hq_journal") if isinstance(view, dict) else None
        held = hj.get("size") if isinstance(hj, dict) else None
        if isinstance(size, int) and isinstance(held, int) and held >= size:
            break
        time.sleep(0.3)
    _, head = box.call("GET", "/v1/journal/head")
    cosigned = head.get("cosigned") if isinstance(head, dict) else None
    say(f"  box journal: {size} records at close; HQ verified and holds {held}; "
        f"HQ's countersignature in the box's chain covers {cosigned}")
