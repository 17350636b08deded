"""Local-API bodies through the validation layer: wrong types, nearest field names, huge numbers
and deep nesting all answer 400 naming the field, and nothing is stored."""

from __future__ import annotations

from pathlib import Path

from tests.agent.conftest import SimFactory, agent_client, box_config, raw_job

JSON = {"Content-Type": "application/json"}


async def test_bad_bodies_name_their_field_and_store_nothing(tmp_path: Path,
                                                             sim_printer: SimFactory) -> None:
    _, shell = sim_printer()
    async with agent_client(box_config(tmp_path, {"front": shell.port})) as (_, client):
        cases: list[tuple[bytes, str, str]] = [
            (b'{"id":"j-1","printer":"front","raw":"AA==","copies":"2"}', "copies",
             "must be an integer, got a string"),
            (b'{"id":"j-2","printer":"front","raw":"AA==","copies":0}', "copies",
             "must be 1-20"),
            (b'{"id":"j-3","priner":"front","raw":"AA=="}', "priner",
             "unknown field; did you mean `printer`?"),
            (b'{"id":"j-4","printer":"front","raw":"AA==","copies":' + b"9" * 5000 + b"}",
             "copies", "a number of more than 40 digits"),
            (b'{"id":"j-5","printer":"front","raw":"AA==","x":' + b"[" * 50_000
             + b"]" * 50_000 + b"}", "x" + "[0]" * 31, "nested deeper than 32 levels"),
            ('{"id":"j-6","printer":"front","template":"receipt","data":"前台"}'.encode(),
             "data", "must be an object, got a string"),
            (b'[1]', "job", "must be an object, got an array"),
        ]
        for body, field, reason in cases:
            r = await client.post("/v1/print-jobs", data=body, headers=JSON)
            assert r.status == 400, (field, await r.text())
            assert (await r.json())["error"] == {"field": field, "reason": reason}
        for i in range(1, 7):
            assert (await client.get(f"/v1/print-jobs/j-{i}")).status == 404
        r = await client.post("/v1/sales", json={"lines": [], "clerc": "C001"})
        assert r.status == 400
        assert (await r.json())["error"] == {"field": "clerc",
                                             "reason": "unknown field; did you mean `clerk`?"}
        for answer, field, reason in (({"action": "打印"}, "action",
                                       "must be one of reprint, done"),
                                      ({"acton": "done"}, "acton",
                                       "unknown field; did you mean `action`?")):
            r = await client.post("/v1/print-jobs/nope/resolve", json=answer)
            assert r.status == 400
            assert (await r.json())["error"] == {"field": field, "reason": reason}
        r = await client.post("/v1/print-jobs", json=raw_job("ok-1", "front", "前台小票"))
        assert r.status == 202
