"""Journal texts refuse control and invisible format characters (docs/journal.md §5): the box
answers 400 naming the field and journals nothing but the audit of the refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.conftest import agent_client
from tests.agent.sales.conftest import audits, post, records, sale, sales_config

BIDI_ZW_C1 = "\u202eabc\u200b\x9b"


@pytest.mark.parametrize(("change", "field"), [
    ({"note": "会员日 " + BIDI_ZW_C1}, "note"),
    ({"note": "发票\u2028抬头"}, "note"),  # a line separator is a line break
    ({"note": "\ufeff开票"}, "note"),  # BOM, an invisible format character
    ({"clerk": "C\u3000001"}, "clerk"),  # an ideographic space is a space in an id
    ({"member": "K\u200d002"}, "member"),  # no joiner in an id
    ({"order": "XS-20261129\u00a0-0041"}, "order"),
    ({"lines": [{"sku": "JC-1001", "name": "不锈钢合页\x85 4寸", "qty": 40,
                 "unit_price": 850}]}, "lines[0].name"),
])
async def test_a_text_with_an_invisible_or_control_character_is_refused(
        tmp_path: Path, change: dict[str, object], field: str) -> None:
    db = tmp_path / "journal.db"
    body = {**sale(), **change}
    if "lines" in change:
        body.pop("total")
        body["payments"] = [{"method": "cash", "amount": 34000}]
    async with agent_client(sales_config(tmp_path)) as (_, client):
        status, out = await post(client, "/v1/sales", body)
    assert (status, out["error"]["field"]) == (400, field), out
    assert records(db, "sale") == []
    [audit] = audits(db, "sale.create")
    assert "→ 400" in audit["detail"]


async def test_a_full_width_space_and_an_emoji_joiner_are_welcome_in_texts(
        tmp_path: Path) -> None:
    note = "请开增值税专用发票\u3000抬头：重庆江北建材 👨\u200d👩\u200d👧"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        status, out = await post(client, "/v1/sales", sale(note=note))
    assert status == 201, out
    [rec] = records(tmp_path / "journal.db", "sale")
    assert rec["body"]["note"] == note


def test_the_audit_of_any_request_is_a_record_the_journal_accepts() -> None:
    from aiohttp.test_utils import make_mocked_request

    from agent.sales.audit import CLERK_HEADER, audit_body
    from sync.journal.schema import validate_body

    req = make_mocked_request("POST", "/v1/sales/\u202eXS\u200b-1\x9b",
                              headers={CLERK_HEADER: "M\x85 001\u3000"})
    body = audit_body(req, 404)
    validate_body("audit", body, 5)
    # A clerk header is only claimed: it goes into the detail, as a journal id.
    assert body["actor"] == "anonymous" and "claimed clerk M__001" in body["detail"]
    assert "?XS?-1?" in body["detail"]
