"""The workshop part of `storelink demo`: HQ sends a production task, the box splits it and
prints its flow cards, and two simulated serial scanners, two stations, play a short shift."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from agent.demo.world import Http
from drivers.label.flowcard import encode_flow_card
from drivers.sim.scanner import SerialScannerSim

Say = Callable[[str], None]
TASK: dict[str, Any] = {
    "task_no": "SC-20261129-001", "qty": 240, "split_size": 80, "due": "2026-12-05",
    "product": {"code": "CP-8801", "name": "不锈钢门铰链 组件"},
    "route": [{"step": 10, "name": "下料", "rate_fen": 5},
              {"step": 20, "name": "冲压", "rate_fen": 8},
              {"step": 30, "name": "焊接", "rate_fen": 12, "outsource": True}]}
WORKERS = (("W001", "赵大勇"), ("W002", "钱小红"), ("W003", "孙建国"))


def stations_toml(cut: str, press: str) -> str:
    """Workers, two scanners on `cut` and `press` (ptys) and their stations."""
    out = "".join(f'\n[[journal.workers]]\nid = "{i}"\nname = "{n}"\nbadge = "BADGE-{i}"\n'
                  for i, n in WORKERS)
    for sid, dev in (("ws-cut", cut), ("ws-press", press)):
        out += (f'\n[[scanners]]\nid = "{sid}-scanner"\nkind = "serial"\ndevice = "{dev}"\n'
                f'baudrate = 115200\nterminator = "CR"\n')
    return out + ('\n[[stations]]\nid = "ws-cut"\nname = "下料工位"\nscanner = "ws-cut-scanner"\n'
                  'steps = [10]\nlabel_printer = "workshop"\n'
                  '\n[[stations]]\nid = "ws-press"\nname = "冲压焊接工位"\n'
                  'scanner = "ws-press-scanner"\nsteps = [20, 30]\n')


def _get(http: Http, path: str) -> dict[str, Any]:
    _, body = http.call("GET", path)
    return body if isinstance(body, dict) else {}


def _scan(box: Http, sim: SerialScannerSim, station: str, code: str) -> dict[str, Any]:
    before = _get(box, f"/v1/stations/{station}").get("results", 0)
    sim.scan(code)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        view = _get(box, f"/v1/stations/{station}")
        if view.get("results", 0) > before:
            last: dict[str, Any] = view["last"]
            return last
        time.sleep(0.05)
    raise SystemExit(f"station {station} did not answer {code}")


def run_shift(box: Http, hq: Http, box_id: str, cut: SerialScannerSim,
              press: SerialScannerSim, hq_url: str, say: Say) -> None:
    """HQ's task to the box, split and printed, then the two stations' scans."""
    say("\n— 13:30 车间工位: HQ sends a production task; two scanners are two stations")
    status, cmd = hq.call("POST", "/v1/production-tasks", {"box": box_id, "task": TASK})
    say(f"  HQ POST /v1/production-tasks {TASK['task_no']} → {status}")
    nonce = cmd.get("nonce") if isinstance(cmd, dict) else None
    result = hq.wait(f"/v1/commands/{nonce}", {"done", "failed", "refused"}, "result")
    task = _get(box, f"/v1/production-tasks/{TASK['task_no']}")
    say(f"  box: {result}; split into {len(task.get('parts', []))} containers, one flow card each "
        "on the label printer")
    play = [(cut, "ws-cut", n, "BADGE-W001") for n in (1, 2, 3)]
    play += [(press, "ws-press", n, "BADGE-W002") for n in (1, 2)]
    play += [(press, "ws-press", 1, "BADGE-W003"), (cut, "ws-cut", 1, "BADGE-W002")]
    # 焊接 of container 2 done outside: sent out to supplier JX-01, received back.
    play += [(press, "ws-press", 2, "SLSUP:JX-01"), (press, "ws-press", 2, "BADGE-W003"),
             (press, "ws-press", 2, "SLSUP:JX-01")]
    for sim, station, n, badge in play:
        _scan(box, sim, station, encode_flow_card(TASK["task_no"], n, 3, 80))
        r = _scan(box, sim, station, badge)
        say(f"  {station} {n}/3 + {badge}: {r['message']}")
    base = hq_url.rstrip("/")
    say(f"  HQ workshop progress and piece counts (车间进度与计件): {base}/workshop")
    say(f"  station pages (工位屏): {box.base}/station/ws-cut  {box.base}/station/ws-press")
