"""End to end with the shipped commands: the box is `storelink agent run` (journal on, `[sync]`
to the test's mosquitto through a cut-proxy), HQ is `storelink hq run`, the printer a simulated
one in its own process; sales go through the daemon's POST /v1/sales."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.daemon_world import BOX, COSIGNER, DaemonWorld, job, records, sale_request
from tests.e2e.world import wait_for

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path) as w:
        yield w


def sell(w: DaemonWorld, n: int) -> dict[str, Any]:
    """One sale through the daemon's API, which must answer 201 with the committed record."""
    status, answer = w.box_api("POST", "/v1/sales", sale_request(n))
    assert status == 201, (status, answer)
    assert answer["type"] == "sale"
    return dict(answer)


def assert_in_journal(lines: list[str], answers: list[dict[str, Any]]) -> None:
    """Every answered sale is in `lines` at its seq, with the hash the API gave."""
    for a in answers:
        assert a["seq"] < len(lines), a
        assert lines[a["seq"]].startswith(f'{{"hash":"{a["hash"]}"'), a


def cosign_sizes(lines: list[str]) -> list[int]:
    """The sizes HQ countersigned, as the box's cosign records hold them."""
    return [r["body"]["size"] for r in records(lines) if r["type"] == "cosign"]


def assert_cursor_only_after_cosignature(w: DaemonWorld, lines: list[str]) -> None:
    """The box's upload cursor covers no record HQ has not countersigned: every record below
    it other than a cosign record lies below the size of some cosign record."""
    cursor = w.upload_cursor()
    covered = max(cosign_sizes(lines[:cursor]), default=0)
    uncovered = [r["seq"] for r in records(lines[:cursor])
                 if r["type"] != "cosign" and r["seq"] >= covered]
    assert uncovered == [], (cursor, covered, uncovered)


def assert_verified_with_hq_key(w: DaemonWorld) -> None:
    """`storelink journal verify` accepts the box's journal, cosign records checked."""
    out = w.verify_box_journal()
    assert out.startswith("valid: "), out
    assert "not checked" not in out, out


def test_cloud_print_prints_once_and_hq_sees_it_printed(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    body = {"box": BOX, "printer": "front", "job": job("ck-20261129-0001")}
    assert world.hq_api("POST", "/v1/print-jobs", body)[0] == 201
    wait_for(lambda: world.job_state("ck-20261129-0001") == "printed", what="printed at HQ")
    status, again = world.hq_api("POST", "/v1/print-jobs", body)
    assert status == 200 and again["state"] == "printed"
    # A later job on the same printer is a barrier: a repeat would have printed before it.
    assert world.hq_api("POST", "/v1/print-jobs",
                        {"box": BOX, "job": job("ck-20261129-0002")})[0] == 201
    wait_for(lambda: world.job_state("ck-20261129-0002") == "printed", what="barrier printed")
    assert world.printed() == ["ck-20261129-0001", "ck-20261129-0002"]
    _, view = world.hq_api("GET", "/v1/print-jobs/ck-20261129-0001")
    assert [h["state"] for h in view["history"]] == [
        "submitted", "dispatched", "accepted", "queued", "printing", "printed"]
    assert view["version"] == 3


def test_sales_while_the_link_is_cut_reach_hq_cosigned(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    before = [sell(world, n) for n in range(3)]
    wait_for(world.settled, what="first sales cosigned")
    world.proxy.cut()
    wait_for(lambda: world.proxy.connections == 0, what="link cut")
    offline = [sell(world, n) for n in range(3, 33)]
    first = offline[0]["seq"]
    # Nothing of it can have reached HQ, and the box's cursor stays where HQ cosigned.
    held = world.box_view()["hq_journal"]["size"]
    assert held <= first and world.upload_cursor() <= first
    world.proxy.restore()
    wait_for(world.settled, 90, "the offline sales cosigned by HQ")
    box, hq = world.box_journal(), world.hq_journal()
    assert box == hq
    assert_in_journal(box, before + offline)
    sales = [r["body"]["order"] for r in records(box) if r["type"] == "sale"]
    assert sales == [f"XS-E2E-{n:06d}" for n in range(33)]
    cosigns = [r for r in records(box) if r["type"] == "cosign"]
    assert {r["body"]["cosigner"] for r in cosigns} == {COSIGNER}
    assert max(cosign_sizes(box)) > offline[-1]["seq"]
    assert world.upload_cursor() == len(box)
    assert_cursor_only_after_cosignature(world, box)
    assert_verified_with_hq_key(world)
    # The daemon's telemetry reports the same: nothing written is left uncosigned.
    wait_for(lambda: (v := world.box_view())["sync_lag"] == 0
             and v["journal"]["head"] == len(box), what="telemetry without sync lag")
    assert world.hq_api("GET", "/v1/alarms")[1]["alarms"] == []


class Load:
    """A till selling through the daemon's API and an office posting cloud jobs to HQ.

    The till does what a real one does when an answer is lost: it retries the same sale with
    the same Idempotency-Key until the daemon answers 201 (made now) or 200 (made before).
    """

    def __init__(self, w: DaemonWorld) -> None:
        self.w = w
        self.stop = threading.Event()
        self.orders: list[str] = []  # every sale the till attempted
        self.answers: list[dict[str, Any]] = []  # 201 or 200: committed
        self.retries = 0
        self.jobs_tried: list[str] = []
        self.jobs_ok: list[str] = []  # accepted by HQ
        self.threads = [threading.Thread(target=self._sell, daemon=True),
                        threading.Thread(target=self._post_jobs, daemon=True)]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(90)
            assert not t.is_alive(), t

    def wait_for_more(self, sales: int, jobs: int) -> None:
        """Wait until `sales` more sales are committed and `jobs` more jobs accepted."""
        s, j = len(self.answers) + sales, len(self.jobs_ok) + jobs
        wait_for(lambda: len(self.answers) >= s and len(self.jobs_ok) >= j,
                 what="the load flowing")

    def _sell(self) -> None:
        n = 1000
        while not self.stop.is_set():
            n += 1
            body = sale_request(n)
            self.orders.append(body["order"])
            key = {"Idempotency-Key": f"till-T1-{body['order']}"}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # finish this sale even when told to stop
                status, answer = self.w.box_api("POST", "/v1/sales", body, key)
                if status in (200, 201):
                    self.answers.append(answer)
                    break
                self.retries += 1
                time.sleep(0.02)  # the daemon is down or restarting: try again shortly

    def _post_jobs(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            jid = f"load-{n:04d}"
            self.jobs_tried.append(jid)
            status, _ = self.w.hq_api("POST", "/v1/print-jobs", {"box": BOX, "job": job(jid)})
            if status in (200, 201):
                self.jobs_ok.append(jid)
            self.stop.wait(0.03)


def test_kill9_of_the_daemon_under_load_loses_no_sale_and_prints_nothing_twice(
        world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    with Load(world) as load:
        for _ in range(2):
            load.wait_for_more(sales=40, jobs=5)
            assert world.box is not None
            world.box.kill9()
            world.start_box()
        load.wait_for_more(sales=20, jobs=2)
    final = {"printed", "failed", "unknown", "expired"}
    wait_for(lambda: all(world.job_state(j) in final for j in load.jobs_ok), 120,
             "every job settled at HQ")
    wait_for(world.settled, 120, "journals cosigned and equal")
    box, hq = world.box_journal(), world.hq_journal()
    assert box == hq
    assert len(load.answers) >= 100 and len(load.jobs_ok) >= 12
    # Every sale answered is there as answered; every sale attempted is there exactly once.
    assert_in_journal(box, load.answers)
    assert len(load.answers) == len(load.orders)
    orders = Counter(r["body"]["order"] for r in records(box) if r["type"] == "sale")
    assert orders == Counter(load.orders), (orders - Counter(load.orders)).most_common(3)
    printed = Counter(world.printed())
    assert printed and max(printed.values()) == 1, printed.most_common(3)
    assert set(printed) <= set(load.jobs_tried)
    states = Counter(world.job_state(j) for j in load.jobs_ok)
    for jid in load.jobs_ok:
        if world.job_state(jid) == "printed":
            assert printed[jid] == 1, jid
    # Only a job being printed at a kill may end 'unknown' (never reprinted by itself).
    assert states["printed"] >= len(load.jobs_ok) - 2, states
    assert_cursor_only_after_cosignature(world, box)
    assert_verified_with_hq_key(world)
    assert world.hq_api("GET", "/v1/alarms")[1]["alarms"] == []


def test_sigterm_is_a_death_at_hq_and_a_restart_a_birth(world: DaemonWorld) -> None:
    world.start_box()
    wait_for(world.online, what="box online")
    first = world.box_view()["bdseq"]
    assert world.box is not None
    assert world.box.stop() == 0
    view = wait_for(lambda: (v := world.box_view()) and not v["online"] and v, what="offline")
    assert view["offline_reason"] == "shutdown" and view["bdseq"] == first
    world.start_box()
    view = wait_for(lambda: (v := world.box_view()) and v["online"] and v, what="online again")
    assert view["bdseq"] > first and view["offline_reason"] == ""
    sell(world, 1)
    wait_for(world.settled, what="a sale after the restart cosigned")


def test_a_cloud_job_beyond_the_queue_depth_is_refused_at_intake(world: DaemonWorld) -> None:
    # Issue 11, point 10: cloud jobs obey queue.max_depth like local ones, and HQ is told.
    world.box_config.write_text(world.box_config.read_text(encoding="utf-8").replace(
        "default_expiry_s = 3600\n", "default_expiry_s = 3600\nmax_depth = 1\n"),
        encoding="utf-8")
    world.printer.stop()  # nothing prints: the first job keeps waiting
    world.start_box()
    wait_for(world.online, what="box online")
    for n in (1, 2):
        body = {"box": BOX, "printer": "front", "job": job(f"ck-depth-{n}")}
        assert world.hq_api("POST", "/v1/print-jobs", body)[0] == 201
    wait_for(lambda: world.job_state("ck-depth-2") == "refused", what="second job refused")
    assert world.job_state("ck-depth-1") != "refused"
    status, answer = world.box_api("GET", "/v1/print-jobs/ck-depth-2")
    assert status == 404, answer
