"""The demo's head office after the day: the ERP's customers and orders imported, the
salesperson mapped to the ERP's id, the day cleared (日清日结) and the alerts read."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from agent.demo.world import Http

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
CHINA = timezone(timedelta(hours=8))
Say = Callable[[str], None]


def _hq_cli(hq_config: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "hq.cli", *args, "--config", str(hq_config)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"storelink hq {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _yuan(fen: object) -> str:
    return f"¥{fen / 100:,.2f}" if isinstance(fen, int) else "?"


def import_orders(hq_config: Path, store: str, salesperson_user: str, say: Say) -> None:
    """The ERP's files into HQ: customers and orders (names and locations from the catalog)."""
    say("\n— 08:30 总部: the ERP's catalog, customers and orders are imported; 业务员 sales is "
        "S101")
    out = _hq_cli(hq_config, "catalog", "import", str(DATA / "catalog.json"))
    say(f"  storelink hq catalog import → {out.splitlines()[-1] if out else 'done'}")
    out = _hq_cli(hq_config, "orders", "import", str(DATA / "orders.json"),
                  "--customers", str(DATA / "customers.json"),
                  "--catalog", str(DATA / "catalog.json"), "--store", store)
    say(f"  storelink hq orders import → {out.splitlines()[-1] if out else 'done'}")
    _hq_cli(hq_config, "orders", "salesperson", salesperson_user, "S101")


def clear_day(hq: Http, say: Say) -> None:
    """Preview and run the day's clearing; print the consolidated figures and any flags."""
    day = datetime.now(UTC).astimezone(CHINA).date().isoformat()
    say(f"\n— 21:00 财务: 日清日结 for {day}")
    status, run = hq.call("POST", "/v1/clearing/runs", {"day": day})
    if status != 201 or not isinstance(run, dict):
        say(f"  POST /v1/clearing/runs → {status} {run}")
        return
    total = run.get("consolidated") or {}
    channels = total.get("channels") if isinstance(total, dict) else None
    names = {c["id"]: c["name"] for c in run.get("channels", []) if isinstance(c, dict)}
    if isinstance(channels, dict):
        parts = [f"{names.get(k, k)} {_yuan(v)}" for k, v in channels.items() if v]
        say(f"  run {run.get('id')} → 201: " + ", ".join(parts))
    flags = [f for line in run.get("lines", []) for f in line.get("flags", [])]
    say(f"  flags: {len(flags)}" + "".join(f"; {f.get('name')} {f.get('box')}" for f in flags))
    again, _ = hq.call("POST", "/v1/clearing/runs", {"day": day})
    say(f"  a second run of the same day → {again} (a cleared day does not change)")
    say(f"  export: {hq.base}/v1/clearing/runs/{run.get('id')}/export.xlsx")


def alerts(hq: Http, say: Say) -> None:
    """What HQ's alerts say at the end of the day."""
    status, body = hq.call("GET", "/v1/alerts")
    found = body.get("alerts", []) if isinstance(body, dict) else []
    say(f"\n— 告警: GET /v1/alerts → {status}, {len(found)} alert(s)"
        + "".join(f"; {a.get('kind')} {a.get('subject')}" for a in found[:5]))
