"""`[alerts]` of HQ's configuration and the kinds of alert: thresholds, the day-close deadline,
enabled kinds and `[[alerts.webhooks]]`, validated declaratively; every error names its dotted
key. A room of its own below hq.config and hq.alerts (it imports no other room)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from validation import Problem, Schema
from validation.decode import collect
from validation.network import is_loopback

Kind = Literal["box_offline", "printer_paper_out", "printer_cover_open", "printer_offline",
               "journal_gap", "journal_fork", "clearing_difference", "sync_lag",
               "day_not_closed"]
KIND_NAMES = {
    "box_offline": "盒子离线",
    "printer_paper_out": "打印机缺纸",
    "printer_cover_open": "打印机开盖",
    "printer_offline": "打印机离线",
    "journal_gap": "日志断档",
    "journal_fork": "日志分叉",
    "clearing_difference": "清算差异",
    "sync_lag": "同步滞后",
    "day_not_closed": "未按时日结",
}
"""Every kind, in the order pages list them."""
KINDS = tuple(KIND_NAMES)
FINANCE_KINDS = frozenset({"clearing_difference", "day_not_closed"})
"""Kinds finance sees and acknowledges; operations acknowledges the others."""
LATCHED = frozenset({"journal_fork", "clearing_difference"})
"""Kinds whose condition never goes away by itself (a stored fork, a signed day close that
disagrees): raised once per subject ever, cleared only by `clear` (e.g. a clearing run that
books the difference)."""
PRINTER_STATES = {"paper_out": "printer_paper_out", "cover_open": "printer_cover_open",
                  "offline": "printer_offline"}
"""A printer state word (drivers.printer_state) → the kind of alert it raises."""
BOX_KINDS = frozenset({"box_offline", "printer_paper_out", "printer_cover_open",
                       "printer_offline", "sync_lag"})
"""Kinds judged from box presence: not judged while HQ's own broker link is down."""


def kind_name(kind: str) -> str:
    """The Chinese name of a kind (the kind itself if unknown)."""
    return KIND_NAMES.get(kind, kind)


def role_sees(role: str | None, kind: str) -> bool:
    """Whether a signed-in role sees alerts of `kind` (store scope is checked apart)."""
    if role == "finance":
        return kind in FINANCE_KINDS
    return role in ("admin", "operations", "store_manager")


def role_acks(role: str | None, kind: str) -> bool:
    """Whether a signed-in role may acknowledge alerts of `kind`."""
    if role == "admin":
        return True
    if role == "finance":
        return kind in FINANCE_KINDS
    return role == "operations" and kind not in FINANCE_KINDS

HOOK_NAME = r"^[A-Za-z0-9_-]{1,64}$"
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


@dataclass(frozen=True)
class Webhook:
    """One robot or JSON endpoint that receives every raise and clear."""

    name: str
    url: str
    kind: str
    secret: str = ""
    """DingTalk 加签 secret (`SEC…`): the URL gets `timestamp` and `sign` (HMAC-SHA256)."""
    timeout_s: float = 10.0


@dataclass(frozen=True)
class AlertConfig:
    """How HQ judges and delivers alerts (defaults when `[alerts]` is absent)."""

    enabled: bool = True
    interval_s: float = 30.0
    """How often a worker judges the fleet and the books."""
    kinds: frozenset[str] = frozenset(KINDS)
    offline_after_s: int = 300
    sync_lag_records: int = 1000
    sync_lag_s: int = 900
    day_close_by: str = "02:00"
    """China time on the morning after a business day by which its day close must be at HQ."""
    webhooks: tuple[Webhook, ...] = ()
    max_attempts: int = 10
    backoff_s: float = 5.0
    backoff_max_s: float = 600.0

    def deadline_min(self) -> int:
        """`day_close_by` as minutes after the start of the business day (the next morning)."""
        h, m = self.day_close_by.split(":")
        return 24 * 60 + int(h) * 60 + int(m)


class WebhookTable(Schema, frozen=True, kw_only=True):
    """`[[alerts.webhooks]]`."""

    name: Annotated[str, Meta(pattern=HOOK_NAME, extra={
        "reason": "1-64 characters of A-Z a-z 0-9 _ -"})] | None = None
    url: Annotated[str, Meta(min_length=8, max_length=2000)]
    kind: Literal["wecom", "dingtalk", "json"]
    secret: Annotated[str, Meta(max_length=200)] = ""
    timeout_s: Annotated[float, Meta(ge=1.0, le=60.0)] = 10.0


class AlertsTable(Schema, frozen=True, kw_only=True):
    """`[alerts]`."""

    enabled: bool = True
    interval_s: Annotated[float, Meta(ge=0.2, le=3600.0)] = 30.0
    kinds: list[Kind] = msgspec.field(default_factory=lambda: list(get_args(Kind)))
    offline_after_s: Annotated[int, Meta(ge=0, le=30 * 86_400)] = 300
    sync_lag_records: Annotated[int, Meta(ge=1, le=100_000_000)] = 1000
    sync_lag_s: Annotated[int, Meta(ge=1, le=30 * 86_400)] = 900
    day_close_by: Annotated[str, Meta(pattern=CLOCK, extra={
        "reason": "must be a China time HH:MM (00:00-23:59) on the next morning"})] = "02:00"
    webhooks: list[object] = msgspec.field(default_factory=list)
    max_attempts: Annotated[int, Meta(ge=1, le=1000)] = 10
    backoff_s: Annotated[float, Meta(ge=0.1, le=3600.0)] = 5.0
    backoff_max_s: Annotated[float, Meta(ge=0.1, le=86_400.0)] = 600.0


def url_problem(url: str) -> str | None:
    """Why a webhook URL is refused: only https, or http to a loopback address."""
    try:
        u = urlsplit(url)
        host = u.hostname or ""
        _ = u.port
    except ValueError as e:
        return f"not a valid URL ({e})"
    if not host:
        return "must name a host (https://…)"
    if u.scheme == "https":
        return None
    if u.scheme == "http" and is_loopback(host):
        return None
    return "must be https (http only to a loopback address)"


def parse_alerts(raw: object, problems: list[Problem]) -> AlertConfig:
    """`[alerts]` of a parsed config (absent: the defaults); problems appended name the key."""
    if raw is None:
        return AlertConfig()
    before = len(problems)
    t = collect(raw, AlertsTable, problems, "alerts")
    hooks: list[Webhook] = []
    items = raw.get("webhooks") if isinstance(raw, Mapping) else None
    names: set[str] = set()
    for i, item in enumerate(items if isinstance(items, list) else ()):
        where = f"alerts.webhooks[{i}]"
        h = collect(item, WebhookTable, problems, where)
        if h is None:
            continue
        why = url_problem(h.url)
        if why is not None:
            problems.append(Problem(f"{where}.url", why))
        if h.secret and h.kind != "dingtalk":
            problems.append(Problem(f"{where}.secret", "only a dingtalk robot takes a secret"))
        name = h.name or str(i)
        if name in names:
            problems.append(Problem(f"{where}.name", f"duplicate webhook {name!r}"))
        names.add(name)
        hooks.append(Webhook(name, h.url, h.kind, h.secret, h.timeout_s))
    if t is None or len(problems) > before:
        return AlertConfig()
    if t.backoff_max_s < t.backoff_s:
        problems.append(Problem("alerts.backoff_max_s", "must be at least alerts.backoff_s"))
    return AlertConfig(t.enabled, t.interval_s, frozenset(t.kinds), t.offline_after_s,
                       t.sync_lag_records, t.sync_lag_s, t.day_close_by, tuple(hooks),
                       t.max_attempts, t.backoff_s, t.backoff_max_s)


__all__ = ["AlertConfig", "Webhook", "parse_alerts", "url_problem"]
