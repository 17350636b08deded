"""HQ-API bodies through the validation layer: 400 naming the field, nothing sent."""

from __future__ import annotations

import pytest

from tests.hq.journals import BOX
from tests.hq.web.test_api import JOB, Broker, Client, broker, client, store  # noqa: F401

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(("body", "field", "reason"), [
    (b'{"box":"' + BOX.encode() + b'","job":"\xe5\x89\x8d\xe5\x8f\xb0"}', "job",
     "must be an object, got a string"),
    (b'{"bx":"' + BOX.encode() + b'","job":{}}', "bx", "unknown field; did you mean `box`?"),
    (b'{"box":"' + BOX.encode() + b'","job":{"copies":' + b"9" * 5000 + b"}}", "job.copies",
     "a number of more than 40 digits"),
    (b'{"box":' + b"[" * 50_000 + b"]" * 50_000 + b"}", "box" + "[0]" * 31,
     "nested deeper than 32 levels"),
])
async def test_bad_submissions_answer_400_naming_the_field(
        client: Client, broker: Broker, body: bytes, field: str, reason: str) -> None:  # noqa: F811
    r = await client.post("/v1/print-jobs", data=body, headers=JSON)
    assert r.status == 400, await r.text()
    assert (await r.json())["error"] == {"field": field, "reason": reason}
    assert broker.sent == []


async def test_a_command_body_is_checked_by_its_schema(client: Client,  # noqa: F811
                                                       broker: Broker) -> None:  # noqa: F811
    for body, field, reason in (({"name": "rebirth", "lifetime_s": "60"}, "lifetime_s",
                                 "must be an integer, got a string"),
                                ({"name": "rebirth", "lifetme_s": 60}, "lifetme_s",
                                 "unknown field; did you mean `lifetime_s`?"),
                                ({"name": "rebirth", "lifetime_s": 0}, "lifetime_s",
                                 "must be 1-86400")):
        r = await client.post(f"/v1/boxes/{BOX}/commands", json=body)
        assert r.status == 400, await r.text()
        assert (await r.json())["error"] == {"field": field, "reason": reason}
    assert broker.sent == []
