"""`[alerts]`: defaults when absent, every bad key named by its dotted path, webhook URLs only
https (http only to loopback)."""

from __future__ import annotations

from typing import Any

import pytest

from hq.alert_config import KINDS, AlertConfig, Webhook
from hq.config import HqConfigError, parse_hq_config


def cfg(alerts: Any) -> AlertConfig:
    return parse_hq_config({"alerts": alerts} if alerts is not None else {}).alerts


def test_absent_means_the_defaults() -> None:
    got = cfg(None)
    assert got == AlertConfig() and got.kinds == frozenset(KINDS)
    assert (got.offline_after_s, got.sync_lag_records, got.sync_lag_s, got.day_close_by) == (
        300, 1000, 900, "02:00")
    assert got.deadline_min() == 26 * 60


def test_a_full_table_is_read() -> None:
    got = cfg({"interval_s": 5, "kinds": ["box_offline", "day_not_closed"],
               "offline_after_s": 60, "day_close_by": "03:30", "backoff_s": 2,
               "webhooks": [{"name": "shop-group", "kind": "wecom",
                             "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
                            {"kind": "dingtalk", "secret": "SECabc",
                             "url": "http://127.0.0.1:9000/robot/send?access_token=t"},
                            {"kind": "json", "url": "http://[::1]:8000/hook"}]})
    assert got.kinds == frozenset({"box_offline", "day_not_closed"})
    assert got.deadline_min() == 27 * 60 + 30
    assert got.webhooks[1] == Webhook("1", "http://127.0.0.1:9000/robot/send?access_token=t",
                                      "dingtalk", "SECabc", 10.0)
    assert [h.kind for h in got.webhooks] == ["wecom", "dingtalk", "json"]


@pytest.mark.parametrize(("alerts", "key"), [
    ({"offline_after_s": -1}, "alerts.offline_after_s"),
    ({"kinds": ["box_offline", "打印机缺纸"]}, "alerts.kinds[1]"),
    ({"day_close_by": "24:00"}, "alerts.day_close_by"),
    ({"sync_lag_records": 0}, "alerts.sync_lag_records"),
    ({"bogus": 1}, "alerts.bogus"),
    ({"backoff_s": 10, "backoff_max_s": 5}, "alerts.backoff_max_s"),
    ({"webhooks": [{"kind": "wecom", "url": "http://robot.example.com/send"}]},
     "alerts.webhooks[0].url"),
    ({"webhooks": [{"kind": "wecom", "url": "ftp://127.0.0.1/x"}]}, "alerts.webhooks[0].url"),
    ({"webhooks": [{"kind": "slack", "url": "https://x.example"}]}, "alerts.webhooks[0].kind"),
    ({"webhooks": [{"kind": "wecom", "url": "https://x.example", "secret": "SEC"}]},
     "alerts.webhooks[0].secret"),
    ({"webhooks": [{"kind": "json", "url": "https://x.example", "name": "a"},
                   {"kind": "json", "url": "https://y.example", "name": "a"}]},
     "alerts.webhooks[1].name"),
    ({"webhooks": [{"kind": "json"}]}, "alerts.webhooks[0].url"),
])
def test_bad_keys_are_named(alerts: dict[str, Any], key: str) -> None:
    with pytest.raises(HqConfigError) as e:
        cfg(alerts)
    assert any(err.startswith(key + ":") for err in e.value.errors), e.value.errors
