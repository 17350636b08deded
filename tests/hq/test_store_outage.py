"""HQ while its PostgreSQL is down: the API answers 503 with a JSON reason and Retry-After (a
client retries; it is not told of an internal error), and serves again once the database is
back, without a restart of HQ; the outage is logged once when it begins and once when it ends."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.fleet_sim.rhythm import print_job
from sync.protocol.messages import Death, PrintDispatch
from sync.protocol.topics import Down, Up
from tests.e2e.broker import Broker, broker
from tests.e2e.cutproxy import CutProxy
from tests.e2e.postgres import PgCluster, throwaway_cluster
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, hq_toml
from tests.hq.test_service import FakeBox, birth, until

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
        text = hq.log_text()
        assert "unexpected failure" not in text
        # The outage is logged when it begins and when it ends, not once per request.
        assert text.count("store unavailable") == 1, text
        assert text.count("store reachable again; 3 HTTP request(s) turned away") == 1, text
    finally:
        hq.stop()


async def test_a_birth_and_a_death_sent_while_postgresql_is_down_are_applied_when_it_is_back(
        tmp_path: Path, broker: Broker, cluster: PgCluster) -> None:
    # A box sends its birth and its Will once (journal and events it sends until acknowledged):
    # HQ must keep them until its store is back, or it shows the box offline for good.
    hq: Proc = hq_process(hq_toml(tmp_path, broker.port, db=cluster.new_database()),
                          tmp_path / "hq.log").start()
    box = await FakeBox(broker.port).start()

    async def seen(bdseq: int) -> bool:
        status, _, answer = await asyncio.to_thread(call, hq.url, "GET", f"/v1/boxes/{BOX}")
        return status == 200 and answer.get("bdseq") == bdseq and bool(answer["online"])

    async def tried() -> bool:
        return "store unavailable" in hq.log_text() or "handling" in hq.log_text()

    try:
        await box.send(Up.BIRTH, birth(1), retain=True)
        await until(lambda: seen(1))
        cluster.stop()
        await box.send(Up.DEATH, Death(BOX, 1).to_json(), retain=True)
        await box.send(Up.BIRTH, birth(2), retain=True)
        await until(tried)
        cluster.start()
        await until(lambda: seen(2), 60)
    finally:
        await box.stop()
        hq.stop()


async def test_jobs_accepted_while_disconnected_go_out_when_the_store_is_back(
        tmp_path: Path, broker: Broker, cluster: PgCluster) -> None:
    # HQ publishes the jobs it accepted without a broker when it connects again; if PostgreSQL
    # is down at that moment, they must still go out once it is back, not wait for the box's
    # next reconnection.
    link = CutProxy(broker.port)
    hq: Proc = hq_process(hq_toml(tmp_path, link.port, db=cluster.new_database()),
                          tmp_path / "hq.log").start()
    box = await FakeBox(broker.port).start()
    try:
        await until(lambda: asyncio.to_thread(lambda: link.connections > 0))
        link.cut()
        status, _, answer = await asyncio.to_thread(call, hq.url, "POST", "/v1/print-jobs",
                                                    print_job(BOX, 1))
        assert status in (200, 201, 202), answer
        cluster.stop()
        link.restore()

        async def tried() -> bool:
            text = hq.log_text()
            return "StoreUnavailableError" in text or "store unavailable" in text

        await until(tried, 60)
        cluster.start()
        dispatch = PrintDispatch.from_json(await box.next(Down.PRINT, 60))
        assert dispatch.job_id == f"{BOX}-job-00001"
    finally:
        await box.stop()
        hq.stop()
        link.close()
