"""GET /metrics scraped from the running daemon (`storelink agent run`, token configured) and
the running HQ (`storelink hq run`): values move as jobs print, sales sync and the link drops;
the text is parsed by prometheus-client's own parser; access and bad requests are refused in
JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.daemon_world import BOX, DaemonWorld, fetch, job, sale_request
from tests.e2e.procs import Proc
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)
BOX_TOKEN = "Mq7vXc2LpR9tWk4ZsY8nHd3F"
HQ_TOKEN = "Hq5TzN8wKv2RmP7cXj4LsD9e"
AUTH = {"Authorization": f"Bearer {BOX_TOKEN}"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of an exposition, by (name, labels), through prometheus-client's parser."""
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (KeyError if absent)."""
    return samples[(name, frozenset(labels.items()))]


class MetricsWorld(DaemonWorld):
    """A DaemonWorld whose box API needs a token and whose HQ API needs another."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        text = self.box_config.read_text(encoding="utf-8")
        self.box_config.write_text(text.replace("[api]\n", f'[api]\ntoken = "{BOX_TOKEN}"\n',
                                                1), encoding="utf-8")
        self.hq.stop()
        text = self.hq_config.read_text(encoding="utf-8")
        self.hq_config.write_text(text.replace("[api]\n", f'[api]\ntoken = "{HQ_TOKEN}"\n',
                                               1), encoding="utf-8")
        self.hq = Proc(["-m", "agent", "hq", "run", "--config", str(self.hq_config)],
                       self.hq_config.parent / "hq.log").start()

    def box_metrics(self) -> Samples:
        """A scrape of the box, which must answer 200 in the text format."""
        assert self.box is not None
        status, text = fetch(self.box.url, "GET", "/metrics", headers=AUTH)
        assert status == 200, (status, text)
        return parse(text)

    def hq_metrics(self) -> Samples:
        """A scrape of HQ."""
        status, text = fetch(self.hq.url, "GET", "/metrics",
                             headers={"Authorization": f"Bearer {HQ_TOKEN}"})
        assert status == 200, (status, text)
        return parse(text)

    def hq_get(self, path: str) -> Any:
        status, text = fetch(self.hq.url, "GET", path,
                             headers={"Authorization": f"Bearer {HQ_TOKEN}"})
        assert status == 200, (status, text)
        return json.loads(text)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[MetricsWorld]:
    with MetricsWorld(tmp_path) as w:
        w.start_box()
        yield w


def test_metrics_follow_printing_syncing_and_the_link(world: MetricsWorld) -> None:
    w = world
    wait_for(lambda: value(w.box_metrics(), "storelink_mqtt_connected") == 1.0,
             what="box connected")
    before = w.box_metrics()
    assert value(before, "storelink_device_up", kind="printer", device="front") in (0.0, 1.0)
    assert value(before, "storelink_mqtt_reconnects_total") == 0.0
    printed0 = value(before, "storelink_jobs", state="printed")
    latency0 = value(before, "storelink_print_latency_seconds_count")

    status, answer = w.box_api("POST", "/v1/print-jobs", job("metrics-1"), headers=AUTH)
    assert status == 202, (status, answer)
    wait_for(lambda: value(w.box_metrics(), "storelink_jobs", state="printed") == printed0 + 1,
             what="the job counted as printed")
    after = w.box_metrics()
    assert value(after, "storelink_print_latency_seconds_count") == latency0 + 1
    assert value(after, "storelink_print_latency_seconds_bucket", le="+Inf") == latency0 + 1
    assert value(after, "storelink_device_up", kind="printer", device="front") == 1.0

    head0 = value(after, "storelink_journal_head_seq")
    for n in range(3):
        status, answer = w.box_api("POST", "/v1/sales", sale_request(n), headers=AUTH)
        assert status == 201, (status, answer)

    def synced() -> bool:
        m = w.box_metrics()
        return (value(m, "storelink_journal_head_seq") >= head0 + 3
                and value(m, "storelink_sync_unacked_records") == 0.0)

    wait_for(synced, what="the sales acknowledged by HQ")
    m = w.box_metrics()
    assert value(m, "storelink_sync_last_ack_age_seconds") >= 0.0

    def hq_holds_all() -> bool:
        held = w.hq_get(f"/v1/boxes/{BOX}")["hq_journal"]
        h = w.hq_metrics()
        return (held is not None
                and value(h, "storelink_hq_records_stored_total", box=BOX) == held["size"]
                and held["size"] >= head0 + 4)

    wait_for(hq_holds_all, what="HQ's counters matching what it holds")
    h = w.hq_metrics()
    held = w.hq_get(f"/v1/boxes/{BOX}")["hq_journal"]
    assert value(h, "storelink_hq_records_verified_total", box=BOX) == held["size"]
    assert value(h, "storelink_hq_boxes", state="online") == 1.0
    assert value(h, "storelink_hq_broker_link", state="connected") == 1.0
    assert value(h, "storelink_hq_alarms_total", kind="fork") == 0.0
    assert value(h, "storelink_hq_ingest_errors_total", kind="refused") == 0.0

    # The box's link drops: its state, its alarm and, once back, one reconnection.
    w.proxy.cut()
    wait_for(lambda: value(w.box_metrics(), "storelink_mqtt_connected") == 0.0,
             what="the box seeing its link down")
    assert value(w.box_metrics(), "storelink_alarms", code="hq_link") == 1.0
    w.proxy.restore()
    wait_for(lambda: value(w.box_metrics(), "storelink_mqtt_reconnects_total") == 1.0,
             what="one reconnection counted")
    assert value(w.box_metrics(), "storelink_mqtt_connected") == 1.0


def test_metrics_are_guarded_bounded_and_get_only(world: MetricsWorld) -> None:
    w = world
    assert w.box is not None
    for base, token in ((w.box.url, BOX_TOKEN), (w.hq.url, HQ_TOKEN)):
        good = {"Authorization": f"Bearer {token}"}
        status, text = fetch(base, "GET", "/metrics")
        assert status == 401, (base, status, text)
        assert json.loads(text)["error"]["field"] == "Authorization"
        status, text = fetch(base, "GET", "/metrics", headers={"Authorization": "Bearer nope"})
        assert status == 401, (base, status, text)
        status, text = fetch(base, "GET", f"/metrics?{quote('名字')}=1", headers=good)
        assert status == 400, (base, status, text)
        assert json.loads(text)["error"]["field"] == "名字"
        status, text = fetch(base, "POST", "/metrics", {}, headers=good)
        assert status == 405, (base, status, text)
        assert "error" in json.loads(text)
        status, text = fetch(base, "GET", "/metrics", headers=good)
        assert status == 200, (base, status, text)
        assert token not in text
        # A page in the shop's browser cannot read it (the shared edge refuses other sites).
        status, text = fetch(base, "GET", "/metrics", headers={
            **good, "Origin": "http://evil.example"})
        assert status == 403, (base, status, text)
    # A token in the URL is refused (scrapers send the header: Prometheus `authorization`).
    status, text = fetch(w.box.url, "GET", f"/metrics?token={BOX_TOKEN}")
    assert status == 400 and json.loads(text)["error"]["field"] == "token", (status, text)
    assert BOX_TOKEN not in text
