"""What alerts say (pure): the MQTT event payload, the WeCom/DingTalk robot text in Chinese,
the DingTalk 加签 signature, and the retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

from hq.alert_config import Webhook, kind_name
from hq.alerts.rules import CHINA_OFFSET
from hq.store.alerts import AlertRow

EVENTS = {"raised": "告警", "cleared": "恢复"}


def alert_json(a: AlertRow) -> dict[str, Any]:
    """An alert as the API, MQTT and JSON webhooks show it."""
    return {"id": a.id, "kind": a.kind, "name": kind_name(a.kind), "subject": a.subject,
            "box": a.box, "store": a.store, "raised_ms": a.raised_ms,
            "cleared_ms": a.cleared_ms, "open": a.cleared_ms is None, "detail": dict(a.detail),
            "acked_by": a.acked_by, "acked_ms": a.acked_ms}


def event_payload(hq_id: str, event: str, a: AlertRow) -> bytes:
    """The payload published on `storelink/v1/hq/{hq}/alerts` (docs/protocol.md)."""
    at = a.raised_ms if event == "raised" else (a.cleared_ms or a.raised_ms)
    return json.dumps({"v": 1, "hq": hq_id, "event": event, "at_ms": at,
                       "alert": alert_json(a)}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def china_time(ms: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` in China time."""
    t = datetime(1970, 1, 1) + timedelta(milliseconds=ms) + CHINA_OFFSET
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _what(a: AlertRow) -> str:
    d = a.detail
    if a.kind.startswith("printer_"):
        return f"打印机 {d.get('printer', '')}"
    if a.kind == "day_not_closed":
        return f"营业日 {d.get('day', '')} 未在 {china_time(int(d.get('due_ms', 0)))} 前日结"
    if a.kind == "clearing_difference":
        return f"营业日 {d.get('day', '')} Z{d.get('z', '')} 与签名日结不符"
    if a.kind == "sync_lag":
        return f"待同步 {d.get('records', 0)} 条，{d.get('seconds', 0)} 秒"
    if a.kind in ("journal_gap", "journal_fork"):
        return f"记录 {d.get('seq', '')}"
    return ""


def text(event: str, a: AlertRow, store_name: str = "") -> str:
    """The robot message: one Chinese paragraph naming the kind, store, box, what and when."""
    when = a.raised_ms if event == "raised" else (a.cleared_ms or a.raised_ms)
    store = f"{store_name}（{a.store}）" if store_name and a.store else (a.store or "未分配")
    lines = [f"【{EVENTS[event]}】{kind_name(a.kind)}", f"门店：{store}　盒子：{a.box or '—'}"]
    what = _what(a)
    if what:
        lines.append(what)
    lines.append(f"{'发生' if event == 'raised' else '恢复'}时间：{china_time(when)}（北京时间）")
    if event == "cleared":
        lines.append(f"持续：{max(0, when - a.raised_ms) // 1000} 秒")
    return "\n".join(lines)


def webhook_body(hook: Webhook, hq_id: str, event: str, a: AlertRow,
                 store_name: str = "") -> bytes:
    """The POST body: robots get `{"msgtype":"text","text":{"content":…}}`, json hooks the
    MQTT payload."""
    if hook.kind == "json":
        return event_payload(hq_id, event, a)
    return json.dumps({"msgtype": "text", "text": {"content": text(event, a, store_name)}},
                      ensure_ascii=False).encode()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64 of HMAC-SHA256 over `{timestamp}\\n{secret}` keyed by the secret."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def webhook_url(hook: Webhook, now_ms: int) -> str:
    """The URL to POST to: a signed DingTalk robot gets `&timestamp=…&sign=…` (URL-encoded)."""
    if hook.kind != "dingtalk" or not hook.secret:
        return hook.url
    sep = "&" if "?" in hook.url else "?"
    return (f"{hook.url}{sep}timestamp={now_ms}"
            f"&sign={quote_plus(dingtalk_sign(hook.secret, now_ms))}")


def robot_failure(hook: Webhook, status: int, body: bytes) -> str | None:
    """Why an answer is a failed delivery, or None: a non-2xx status, and for robots an
    answer without `errcode` 0."""
    if not 200 <= status < 300:
        return f"HTTP {status}"
    if hook.kind == "json":
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return "the robot's answer is not JSON"
    code = answer.get("errcode") if isinstance(answer, dict) else None
    if code != 0:
        msg = answer.get("errmsg") if isinstance(answer, dict) else None
        return f"errcode {code}: {msg}"
    return None


def backoff_ms(attempts: int, base_s: float, max_s: float) -> int:
    """The wait after `attempts` failed attempts: base × 2^(attempts-1), at most max_s."""
    return int(min(max_s, base_s * 2 ** max(0, min(attempts - 1, 30))) * 1000)
