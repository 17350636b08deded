"""POST /v1/journal/rotate-key: always needs a supervisor's approval; the approval record comes
first, then key_rotate; later records are signed by the new key and the journal verifies."""

from __future__ import annotations

from pathlib import Path

from agent.journal.keys import load_key
from sync.journal.record import key_id, public_bytes
from tests.agent.conftest import agent_client
from tests.agent.sales.conftest import PIN, audits, post, records, sale, sales_config


async def test_the_key_is_rotated_only_with_an_approval(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (ctx, client):
        assert ctx.journal is not None
        old = ctx.journal.head.key
        status, out = await post(client, "/v1/journal/rotate-key", {"reason": "年度密钥轮换"})
        assert (status, out["error"]["field"]) == (403, "approval")
        status, out = await post(client, "/v1/journal/rotate-key", {
            "reason": "年度密钥轮换", "approval": {"supervisor": "M001", "pin": "0000"}})
        assert (status, out["error"]["field"]) == (403, "approval")
        status, out = await post(client, "/v1/journal/rotate-key", {
            "reason": "年度\u202e密钥轮换", "approval": PIN})
        assert (status, out["error"]["field"]) == (400, "reason")
        assert records(db, "key_rotate") == [] and records(db, "approval") == []
        status, out = await post(client, "/v1/journal/rotate-key", {
            "reason": "年度密钥轮换", "clerk": "C001", "approval": PIN})
        assert status == 201, out
        assert out["old_key"] == old and out["new_key"] != old and out["approver"] == "M001"
        status, sold = await post(client, "/v1/sales", sale())
        assert status == 201, sold
    [approval] = records(db, "approval")
    [rotate] = records(db, "key_rotate")
    assert approval["body"]["action"] == "journal_key_rotate"
    assert (approval["seq"], rotate["seq"]) == (out["approval_seq"], out["seq"])
    assert rotate["seq"] == approval["seq"] + 1 and rotate["key"] == old
    assert rotate["body"]["new_key"] == out["new_key"]
    [after] = records(db, "sale")
    assert after["key"] == out["new_key"]
    assert _installed_key(tmp_path) == out["new_key"]
    assert [a["event"] for a in audits(db) if a["event"] == "journal.rotate_key"] == [
        "journal.rotate_key"] * 4


def _installed_key(state: Path) -> str:
    """The key id of the journal key file under `state` (the rotation replaced it)."""
    [key_file] = state.rglob("*.key")
    return key_id(public_bytes(load_key(key_file)))
