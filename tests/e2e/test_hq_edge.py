"""Attacks on HQ's HTTP API against the real `storelink hq run` (issue 11, points 4, 11, 13)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.broker import Broker, env_with_root
from tests.e2e.edge_proc import post_json, raw_http
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, hq_toml


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[Proc]:
    """HQ with its broker; `hq.shop.example.cn` is a configured name of HQ."""
    broker = Broker(tmp_path / "broker")
    broker.start()
    config = hq_toml(tmp_path, broker.port)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('port = 0\n', 'port = 0\nallowed_hosts = '
                                   '["hq.shop.example.cn"]\n'), encoding="utf-8")
    proc = hq_process(config, tmp_path / "hq.log").start()
    try:
        yield proc
    finally:
        proc.stop()
        broker.stop()


def cloud_job(job_id: str) -> dict[str, object]:
    return {"box": BOX, "printer": "front",
            "job": {"id": job_id, "printer": "front",
                    "document": {"blocks": [{"type": "text", "text": "拣货单 三号库"}]}}}


def test_text_plain_jobs_and_commands_are_refused_with_415(hq: Proc) -> None:
    for path, body in (("/v1/print-jobs", cloud_job("hq-csrf-1")),
                       (f"/v1/boxes/{BOX}/commands", {"name": "open_drawer", "args": {}})):
        a = raw_http(hq.port, "POST", path, body=json.dumps(body).encode(),
                     headers={"Content-Type": "text/plain"})
        assert (a.status, a.field()) == (415, "Content-Type"), path
    assert raw_http(hq.port, "GET", "/v1/print-jobs/hq-csrf-1").status == 404


def test_foreign_origins_and_rebound_names_are_refused(hq: Proc) -> None:
    a = post_json(hq.port, "/v1/print-jobs", cloud_job("hq-csrf-2"), Origin="http://evil.example")
    assert (a.status, a.field()) == (403, "Origin")
    a = raw_http(hq.port, "GET", f"/v1/boxes/{BOX}/journal",
                 headers={"Host": f"evil.example:{hq.port}"})
    assert (a.status, a.field()) == (403, "Host")
    for host in (f"hq.shop.example.cn:{hq.port}", f"localhost:{hq.port}"):
        assert raw_http(hq.port, "GET", "/v1/boxes", headers={"Host": host}).status == 200
    a = post_json(hq.port, "/v1/print-jobs", cloud_job("hq-ok-1"),
                  Origin=f"http://127.0.0.1:{hq.port}")
    assert a.status == 201
    a = raw_http(hq.port, "OPTIONS", "/v1/print-jobs", headers={"Origin": "http://evil.example"})
    assert not [h for h in a.headers if h.startswith("access-control-")]


def test_bombs_floats_and_odd_queries_are_json_400s_naming_the_field(hq: Proc) -> None:
    huge = "9" * 5000
    cases = [
        ("/v1/print-jobs", f'{{"box": "{BOX}", "printer": {huge}}}', "printer"),
        ("/v1/print-jobs", "[" * 100_000 + "]" * 100_000, "[0]"),
        (f"/v1/boxes/{BOX}/commands", '{"name": "open_drawer", "args": {"pin": 2.0}}', "args"),
    ]
    for path, body, prefix in cases:
        a = raw_http(hq.port, "POST", path, body=body.encode(),
                     headers={"Content-Type": "application/json"})
        assert a.status == 400, (path, body[:40], a)
        field = a.field()
        assert isinstance(field, str) and field.startswith(prefix), (body[:40], field)
    for path, field in (("/v1/print-jobs?limit=-1", "limit"),
                        ("/v1/print-jobs?limit=" + huge, "limit"),
                        ("/v1/print-jobs?limit=1e3", "limit"),
                        (f"/v1/boxes/{BOX}/journal?limit=-1", "limit"),
                        (f"/v1/boxes/{BOX}/journal?from=-5", "from"),
                        ("/v1/alarms?box=../x", "box"),
                        ("/v1/print-jobs?limt=5", "limt")):
        a = raw_http(hq.port, "GET", path)
        assert (a.status, a.field()) == (400, field), path


def test_unknown_paths_and_methods_answer_json(hq: Proc) -> None:
    a = raw_http(hq.port, "GET", "/no/such/path")
    assert a.status == 404 and "error" in a.json()
    a = raw_http(hq.port, "DELETE", "/v1/boxes", headers={"Content-Type": "application/json"})
    assert a.status == 405 and "error" in a.json()


@pytest.mark.parametrize("token", [" " * 16, "a" * 16, "abcdefghijklmnop"])
def test_guessable_tokens_are_refused_with_how_to_make_one(tmp_path: Path, token: str) -> None:
    hq_config = hq_toml(tmp_path)
    hq_config.write_text(hq_config.read_text(encoding="utf-8").replace(
        "port = 0\n", f'port = 0\ntoken = "{token}"\n'), encoding="utf-8")
    box_config = tmp_path / "box.toml"
    box_config.write_text(f'[box]\nid = "B1"\nstate_dir = "{tmp_path}"\n\n[api]\n'
                          f'token = "{token}"\n', encoding="utf-8")
    for args in (["config", "check", str(box_config)],
                 ["hq", "run", "--config", str(hq_config)]):
        done = subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True,
                              text=True, env=env_with_root(), timeout=120, check=False)
        out = done.stdout + done.stderr
        assert done.returncode != 0 and "api.token" in out, (args, out)
        assert "secrets.token_urlsafe" in out, out
