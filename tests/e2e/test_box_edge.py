"""Attacks on the box's HTTP edge against the real daemon (issue 11, points 4, 10, 11).

Each test sends what a hostile web page or client sends, over a real socket, to
`storelink agent run`, and checks the answer and that nothing was written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.edge_proc import (
    job,
    journal_records,
    post_json,
    raw_http,
    sale,
    start_box,
)
from tests.e2e.procs import Proc
from tests.e2e.world import wait_for


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Proc]:
    """The daemon, with one extra name and one extra origin allowed."""
    proc = start_box(tmp_path, api='allowed_hosts = ["box-1.shop.example.cn"]\n'
                                   'allowed_origins = ["http://pos.shop.example.cn:8080"]',
                     queue="max_depth = 3")
    try:
        yield proc
    finally:
        proc.stop()


def journal_size(tmp_path: Path) -> int:
    return len(journal_records(tmp_path / "state" / "journal.db"))


def test_a_cross_site_text_plain_post_is_refused_with_415(box: Proc, tmp_path: Path) -> None:
    before = journal_size(tmp_path)
    body = json.dumps(sale("XS-CSRF-1")).encode()
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        a = raw_http(box.port, "POST", "/v1/sales", body=body, headers={"Content-Type": ctype})
        assert (a.status, a.field()) == (415, "Content-Type")
    a = raw_http(box.port, "POST", "/v1/print-jobs", body=json.dumps(job("csrf-1")).encode())
    assert (a.status, a.field()) == (415, "Content-Type")
    assert journal_size(tmp_path) == before  # not a sale, not even an audit record


def test_a_foreign_origin_is_refused_even_with_json(box: Proc, tmp_path: Path) -> None:
    before = journal_size(tmp_path)
    for origin in ("http://evil.example", "null", f"http://evil.example:{box.port}"):
        a = post_json(box.port, "/v1/sales", sale("XS-CSRF-2"), Origin=origin)
        assert (a.status, a.field()) == (403, "Origin"), origin
    assert journal_size(tmp_path) == before
    # The box's own page (same origin), a configured origin and a client without Origin pass.
    own = post_json(box.port, "/v1/sales", sale("XS-OK-1"),
                    Origin=f"http://127.0.0.1:{box.port}")
    pos = post_json(box.port, "/v1/sales", sale("XS-OK-2"),
                    Origin="http://pos.shop.example.cn:8080")
    cli = post_json(box.port, "/v1/sales", sale("XS-OK-3"))
    assert [own.status, pos.status, cli.status] == [201, 201, 201]


def test_a_rebound_dns_name_cannot_read_the_journal(box: Proc) -> None:
    for host in (f"evil.example:{box.port}", "attacker.test", ""):
        a = raw_http(box.port, "GET", "/v1/journal?from=0", headers={"Host": host})
        assert (a.status, a.field()) == (403, "Host"), host
        assert b"genesis" not in a.body
    for host in (f"localhost:{box.port}", f"[::1]:{box.port}", "192.168.1.20:8470",
                 "box-1.shop.example.cn:8470", "BOX-1.shop.example.cn.",
                 "storelink-cq-jb-001-b1.local:8470"):
        a = raw_http(box.port, "GET", "/v1/journal/head", headers={"Host": host})
        assert a.status == 200, host


async def test_the_event_websocket_refuses_foreign_origins(box: Proc) -> None:
    url = f"ws://127.0.0.1:{box.port}/v1/events"
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url, origin="http://evil.example")
        assert refused.value.status == 403
        async with http.ws_connect(url, origin=f"http://127.0.0.1:{box.port}") as ws:
            assert (await ws.receive_json(timeout=30))["type"] == "hello"


def test_no_permissive_cors_headers_even_on_a_preflight(box: Proc) -> None:
    for method in ("OPTIONS", "GET"):
        a = raw_http(box.port, method, "/v1/journal/head",
                     headers={"Origin": f"http://127.0.0.1:{box.port}",
                              "Access-Control-Request-Method": "POST"})
        assert not [h for h in a.headers if h.startswith("access-control-")], a.headers


def test_number_bombs_deep_nesting_and_floats_are_json_400s_naming_the_field(box: Proc) -> None:
    huge = "9" * 5000
    cases = [
        ("/v1/printers/front/drawer", f'{{"pin": {huge}}}', "pin"),
        ("/v1/printers/front/drawer", '{"pin": 2.0}', "pin"),
        ("/v1/printers/front/drawer", '{"pin": 1e999999}', "pin"),
        ("/v1/sales", '{"lines": [{"qty": ' + huge + "}]}", "lines[0].qty"),
        ("/v1/print-jobs", "[" * 100_000 + "]" * 100_000, None),
        ("/v1/sales", '{"note": ' + "[" * 100_000, None),
        ("/v1/print-jobs", '{"copies": NaN}', "body"),
    ]
    for path, body, field in cases:
        a = raw_http(box.port, "POST", path, body=body.encode(),
                     headers={"Content-Type": "application/json"})
        assert a.status == 400, (path, body[:40], a)
        got = a.field()
        assert isinstance(got, str) and got, a.json()
        if field is not None:
            assert got == field, (body[:40], got)
        else:
            assert got.startswith(("[0]", "note")), got


def test_odd_query_parameters_are_json_400s_naming_them(box: Proc) -> None:
    for path, field in (("/v1/journal?from=%C2%B2", "from"), ("/v1/journal?to=-1", "to"),
                        ("/v1/print-jobs?limit=-1", "limit"),
                        ("/v1/print-jobs?limit=" + "9" * 5000, "limit"),
                        ("/v1/print-jobs?before=0", "before")):
        a = raw_http(box.port, "GET", path)
        assert (a.status, a.field()) == (400, field), path


def test_unknown_paths_and_methods_answer_json_and_are_not_audited(box: Proc,
                                                                  tmp_path: Path) -> None:
    before = journal_size(tmp_path)
    for i in range(20):
        a = post_json(box.port, f"/no/such/path{i}", {}, **{"X-Storelink-Clerk": "M001"})
        assert (a.status, a.json()["error"]["reason"]) == (404, "Not Found")
    a = raw_http(box.port, "DELETE", "/v1/sales", headers={"Content-Type": "application/json"})
    assert a.status == 405 and "error" in a.json()
    a = raw_http(box.port, "GET", "/v1/nothing")
    assert a.status == 404 and "error" in a.json()
    assert journal_size(tmp_path) == before


def test_a_claimed_clerk_is_recorded_as_claimed_not_as_the_actor(box: Proc,
                                                                tmp_path: Path) -> None:
    a = post_json(box.port, "/v1/print-jobs", job("claimed-1"), **{"X-Storelink-Clerk": "M001"})
    assert a.status == 202
    a = post_json(box.port, "/v1/printers/front/self-test", {}, **{"X-Storelink-Clerk": "M001"})
    assert a.status == 202
    # A print job's audit record is committed with the job and moved into the journal right
    # after the answer (agent/audit_outbox.py): wait for both to arrive.
    db = tmp_path / "state" / "journal.db"
    wait_for(lambda: len(journal_records(db, "audit")) >= 2,
             what="both audit records in the journal")
    trail = [r["body"] for r in journal_records(db, "audit")]
    assert [t["detail"].split(" → ")[0] for t in trail] == [
        "POST /v1/print-jobs", "POST /v1/printers/front/self-test"]
    assert {t["actor"] for t in trail} == {"anonymous"}
    assert all("claimed clerk M001" in t["detail"] for t in trail)


def test_a_full_printer_queue_answers_429_with_retry_after(box: Proc) -> None:
    assert [post_json(box.port, "/v1/print-jobs", job(f"depth-{i}")).status
            for i in range(3)] == [202, 202, 202]
    a = post_json(box.port, "/v1/print-jobs", job("depth-3"))
    assert (a.status, a.field()) == (429, "printer")
    assert int(a.headers["retry-after"]) > 0
    assert raw_http(box.port, "GET", "/v1/print-jobs/depth-3").status == 404
    # The same job again is still its stored answer, not a refusal.
    assert post_json(box.port, "/v1/print-jobs", job("depth-0")).status == 200



NEW_ROUTES = [("GET", "/v1/scales"), ("GET", "/v1/scales/bench/weight"),
              ("POST", "/v1/scales/bench/tare"), ("POST", "/v1/scales/bench/zero"),
              ("GET", "/v1/health"), ("POST", "/v1/journal/rotate-key"),
              ("POST", "/v1/production-tasks"), ("GET", "/v1/production-tasks"),
              ("GET", "/v1/production-tasks/SC-1"), ("POST", "/v1/production-tasks/SC-1/split"),
              ("GET", "/metrics"), ("GET", "/v1/pairing")]


def test_the_routes_added_since_the_audit_stand_behind_the_same_edge(box: Proc,
                                                                      tmp_path: Path) -> None:
    before = journal_size(tmp_path)
    for method, path in NEW_ROUTES:
        rebound = raw_http(box.port, method, path, body=b"{}",
                           headers={"Host": "attacker.example", "Content-Type": "application/json"})
        assert (rebound.status, rebound.field()) == (403, "Host"), (method, path)
        if method == "POST":
            foreign = post_json(box.port, path, {}, Origin="http://evil.example")
            assert (foreign.status, foreign.field()) == (403, "Origin"), path
            plain = raw_http(box.port, method, path, body=b"{}",
                             headers={"Content-Type": "text/plain"})
            assert plain.status == 415, path
            odd = raw_http(box.port, method, path, body=b"[" * 100 + b"]" * 100,
                           headers={"Content-Type": "application/json"})
            assert 400 <= odd.status < 500 and odd.json()["error"], path
    # Edge refusals are not audited; the malformed bodies are refused with only their audit
    # record written (the documented rule for a 4xx past the edge), nothing else.
    added = journal_records(tmp_path / "state" / "journal.db")[before:]
    assert all(r["type"] == "audit" and "→ 400" in r["body"]["detail"] for r in added), added
