"""What the box counts for /metrics, fed with bus events (pure)."""

from __future__ import annotations

from agent.metrics.counters import BoxCounters


def test_latency_runs_from_acceptance_to_printed_once_per_job() -> None:
    c = BoxCounters()
    c.job_event({"type": "job", "id": "j1", "state": "queued", "at_ms": 1000})
    c.job_event({"type": "job", "id": "j1", "state": "printing", "at_ms": 1500})
    c.job_event({"type": "job", "id": "j1", "state": "printed", "at_ms": 3000})
    c.job_event({"type": "job", "id": "j1", "state": "printed", "at_ms": 4000})
    c.job_event({"type": "job", "id": "j2", "state": "queued", "at_ms": 1000})
    c.job_event({"type": "job", "id": "j2", "state": "failed", "at_ms": 2000})
    c.job_event({"type": "sale", "id": "x"})
    assert sum(c.latency.counts) == 1 and c.latency.total == 2.0
    assert not c.queued_at
    c.connected(5)
    c.connected(5)
    c.acked(7, 9000)
    assert (c.mqtt_reconnects, c.journal_acked, c.last_ack_ms) == (1, 7, 9000)
