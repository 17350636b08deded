"""HQ while its PostgreSQL is down: the API answers 503 with a JSON reason and Retry-After (a
client retries; it is not told of an internal error), and serves again once the database is
back, without a restart of HQ."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.fleet_sim.rhythm import print_job
from tests.e2e.broker import Broker, broker
from tests.e2e.postgres import PgCluster, throwaway_cluster
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, hq_toml

__all__ = ["broker"]


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A cluster of this test alone (it is stopped and started)."""
    with throwaway_cluster() as c:
        yield c


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_hq_answers_503_while_postgresql_is_down_and_serves_again_after(
        tmp_path: Path, broker: Broker, cluster: PgCluster) -> None:
    hq: Proc = hq_process(hq_toml(tmp_path, broker.port, db=cluster.new_database()),
                          tmp_path / "hq.log").start()
    try:
        assert call(hq.url, "POST", "/v1/print-jobs", print_job(BOX, 1))[0] in (200, 201)
        cluster.stop()
        for method, path, body in (("POST", "/v1/print-jobs", print_job(BOX, 2)),
                                   ("GET", "/v1/settlements", None),
                                   ("GET", f"/v1/print-jobs/{BOX}-job-00001", None)):
            status, headers, answer = call(hq.url, method, path, body)
            assert status == 503, (method, path, status, answer)
            assert headers.get("Retry-After") == "1"
            assert "database" in answer["error"]["reason"]
        cluster.start()
        status, _, answer = call(hq.url, "POST", "/v1/print-jobs", print_job(BOX, 2))
        assert status in (200, 201), answer
        status, _, answer = call(hq.url, "GET", f"/v1/print-jobs/{BOX}-job-00002")
        assert status == 200, answer
        assert hq.proc is not None and hq.proc.poll() is None
        assert "unexpected failure" not in hq.log_text()
    finally:
        hq.stop()
