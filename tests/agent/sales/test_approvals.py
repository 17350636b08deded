"""Approvals of sensitive operations (敏感操作审批): refunds and voids above the configured
amount, the drawer outside a sale, re-opening a closed day; each approval its own record."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError, parse_config
from agent.sales import ApprovalError
from agent.sales.approvals import (
    ApprovalRefused,
    Approvals,
    SupervisorSecret,
    hash_secret,
    parse_hash,
    verify_secret,
)
from agent.sales.attempts import MAX_WAIT_S, Counter, wait_s
from drivers import InvalidInput
from tests.agent.conftest import SimFactory, agent_client, eventually
from tests.agent.sales.conftest import (
    BADGE_HASH,
    PIN,
    PIN_HASH,
    audits,
    fast_hash,
    front_ready,
    post,
    records,
    sale,
    sales_config,
)

ROOT = Path(__file__).resolve().parents[3]
KICK = b"\x1bp"


def _refund(seq: int, **extra: Any) -> dict[str, Any]:
    return {"sale_seq": seq, "reason": "整单退货", "clerk": "C001", "lines": sale()["lines"],
            **extra}


async def test_a_refund_over_the_threshold_needs_a_supervisor(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        _, s = await post(client, "/v1/sales", sale())
        before = len(records(db))
        for cred, field in ((None, "approval"), ({"supervisor": "M001", "pin": "1234"},
                                                     "approval"),
                                ({"supervisor": "M009", "pin": "8642"}, "approval.supervisor"),
                                ({"badge": "BADGE-W001"}, "approval")):
            body = _refund(s["seq"], **({"approval": cred} if cred else {}))
            status, out = await post(client, "/v1/refunds", body)
            assert (status, out["error"]["field"]) == (403, field), out
        # Refused: no refund and no approval record, only the audit of each attempt and of
        # each wrong credential (approval.failed).
        assert [r["type"] for r in records(db)[before:]] == ["audit"] * 7
        assert len(audits(db, "approval.failed")) == 3
        assert all(" → 403" in a["detail"] for a in audits(db, "refund.create"))
        status, out = await post(client, "/v1/refunds", {**_refund(s["seq"]), "approval": {
            "supervisor": "M001", "pin": "1"}, "approval_note": "x"})
        assert (status, out["error"]["field"]) == (400, "approval_note")
        status, out = await post(client, "/v1/refunds", _refund(s["seq"], approval=PIN))
        assert status == 201, out
    approval, refund = records(db, "approval")[0], records(db, "refund")[0]
    assert out["approval_seq"] == approval["seq"] == refund["seq"] - 1
    assert refund["body"]["approval_seq"] == approval["seq"]
    assert approval["body"] == {"action": "refund", "approver": "M001", "via": "pin",
                                "amount": 59200, "ref_seq": s["seq"],
                                "subject": "退款 XS-20261129-0041 (销售 1) 592.00 元: 整单退货"}
    [audit] = [a for a in audits(db, "refund.create") if " → 201" in a["detail"]]
    assert audit["ref_seq"] == refund["seq"] and f"approval {approval['seq']}" in audit["detail"]


async def test_small_refunds_need_none_and_a_badge_approves_a_void(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        _, s = await post(client, "/v1/sales", sale())
        two = {"sku": "JC-1003", "name": "十字沉头自攻螺丝", "qty": 2, "unit_price": 1800}
        status, out = await post(client, "/v1/refunds", {"sale_seq": s["seq"], "reason": "规格不符",
                                                         "lines": [two]})
        assert status == 201 and "approval_seq" not in out
        _, s2 = await post(client, "/v1/sales", sale("XS-20261129-0045"))
        status, out = await post(client, "/v1/voids", {"sale_seq": s2["seq"], "reason": "录错"})
        assert (status, out["error"]["field"]) == (403, "approval")
        status, out = await post(client, "/v1/voids", {"sale_seq": s2["seq"], "reason": "录错",
                                                       "approval": {"badge": " BADGE-M001 "}})
        assert status == 201, out
    [approval] = records(db, "approval")
    assert (approval["body"]["action"], approval["body"]["via"]) == ("void", "badge")
    assert records(db, "void")[0]["body"]["approval_seq"] == approval["seq"]


async def test_the_drawer_outside_a_sale_needs_an_approval(tmp_path: Path,
                                                           sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    db = tmp_path / "journal.db"
    async with front_ready(tmp_path, shell.port) as client:
        status, out = await post(client, "/v1/printers/front/drawer", {"pin": 2})
        assert (status, out["error"]["field"]) == (403, "approval")
        status, out = await post(client, "/v1/printers/front/drawer",
                                 {"approval": {"pin": "0000"}})
        assert status == 403
        assert KICK not in model.received and records(db, "approval") == []
        status, out = await post(client, "/v1/printers/front/drawer",
                                 {"approval": PIN, "reason": "换零钱", "clerk": "C002"})
        assert status == 200, out
        await eventually(lambda: KICK in model.received, what="drawer kick")
        # A cash sale opens the drawer by itself; a WeChat-only one may not.
        kicks = model.received.count(KICK)
        status, out = await post(client, "/v1/sales", sale(
            "XS-20261129-0050", payments=[{"method": "cash", "amount": 59200}],
            open_drawer=True))
        assert status == 201 and out["drawer"] == {"printer": "front", "kicked": True}
        await eventually(lambda: model.received.count(KICK) > kicks, what="second kick")
        status, out = await post(client, "/v1/sales", sale("XS-20261129-0051",
                                                           open_drawer=True))
        assert (status, out["error"]["field"]) == (400, "open_drawer")
    [approval] = records(db, "approval")
    assert approval["body"]["action"] == "drawer_open"
    assert approval["body"]["subject"] == "开钱箱 front: 换零钱"
    trail = audits(db, "drawer.open")
    assert [a["detail"].split(";")[0] for a in trail] == [
        "POST /v1/printers/front/drawer → 403"] * 2 + ["POST /v1/printers/front/drawer → 200"]
    # The supervisor whose PIN was checked is the actor; the clerk only claimed to be C002.
    assert trail[-1]["actor"] == "M001" and trail[-1]["ref_seq"] == approval["seq"]
    assert "claimed clerk C002" in trail[-1]["detail"]



async def test_reopening_a_closed_day_needs_a_supervisor(tmp_path: Path) -> None:
    db = tmp_path / "journal.db"
    async with agent_client(sales_config(tmp_path)) as (_, client):
        await post(client, "/v1/sales", sale())
        close = {"day": "2026-11-29", "clerk": "C001", "print": False}
        status, z1 = await post(client, "/v1/day-close", close)
        assert (status, z1["z"]) == (201, 1), z1
        status, out = await post(client, "/v1/day-close", close)
        assert (status, out["error"]["field"]) == (409, "day")
        status, out = await post(client, "/v1/day-close", {**close, "day": "2026-11-28"})
        assert (status, out["error"]["field"]) == (409, "day")
        reopen: dict[str, Any] = {"reason": "漏录一笔现金销售", "clerk": "C001"}
        status, out = await post(client, "/v1/day-reopen", reopen)
        assert (status, out["error"]["field"]) == (403, "approval")
        status, out = await post(client, "/v1/day-reopen", {**reopen, "day": "2026-11-30",
                                                           "approval": PIN})
        assert (status, out["error"]["field"]) == (409, "day")
        status, out = await post(client, "/v1/day-reopen", {**reopen, "approval": PIN})
        assert status == 201 and out["close_seq"] == z1["seq"], out
        status, again = await post(client, "/v1/day-reopen", {**reopen, "approval": PIN})
        assert (status, again["error"]["field"]) == (409, "day")
        await post(client, "/v1/sales", sale("XS-20261129-0043"))
        status, z2 = await post(client, "/v1/day-close", close)
        assert (status, z2["z"], z2["day"]) == (201, 2, "2026-11-29")
    [approval] = records(db, "approval")
    assert approval["body"]["action"] == "day_reopen"
    assert approval["body"]["ref_seq"] == z1["seq"]
    [audit] = [a for a in audits(db, "day.reopen") if " → 201" in a["detail"]]
    assert audit["ref_seq"] == approval["seq"]


async def test_wrong_credentials_back_off_per_supervisor_and_for_all() -> None:
    now = [1000.0]
    m1 = SupervisorSecret("M001", "刘强", PIN_HASH, BADGE_HASH)
    m2 = SupervisorSecret("M002", "王丽", fast_hash("1357"), None)
    approvals = Approvals((m1, m2), clock=lambda: now[0])
    for _ in range(3):  # three free failures for M001
        with pytest.raises(ApprovalRefused, match="does not match"):
            await approvals.check({"supervisor": "M001", "pin": "0000"}, "refund")
    with pytest.raises(ApprovalRefused, match="try again in 1 s"):
        await approvals.check(PIN, "refund")
    now[0] += 1
    with pytest.raises(ApprovalRefused, match="does not match") as e:
        await approvals.check({"supervisor": "M001", "pin": "0001"}, "refund")
    assert e.value.event == "approval.failed" and "M001: 4 in a row" in e.value.detail
    # Now M001 waits 2 s, without its right PIN being checked; M002 does not wait.
    with pytest.raises(ApprovalRefused, match="try again in 2 s") as e:
        await approvals.check(PIN, "refund")
    assert e.value.event == "approval.backoff"
    assert (await approvals.check({"supervisor": "M002", "pin": "1357"}, "refund")).approver \
        == "M002"
    now[0] += 2
    assert (await approvals.check(PIN, "refund")).approver == "M001"
    # The global counter: the badge and PINs without an id count there, six free.
    for i in range(6):
        with pytest.raises(ApprovalRefused, match="does not match"):
            await approvals.check({"badge": f"BADGE-X{i}"}, "refund")
    with pytest.raises(ApprovalRefused, match="try again in 1 s"):
        await approvals.check({"badge": "BADGE-M001"}, "refund")
    now[0] += 1
    with pytest.raises(ApprovalRefused, match="does not match"):
        await approvals.check({"pin": "9999"}, "refund")
    for cred in ({"badge": "BADGE-M001"}, PIN, {"supervisor": "M002", "pin": "1357"}):
        with pytest.raises(ApprovalRefused, match="try again in 2 s"):
            await approvals.check(cred, "refund")
    # The wait is never longer than MAX_WAIT_S, however many failures.
    for _ in range(40):
        now[0] += MAX_WAIT_S
        with pytest.raises(ApprovalRefused, match="does not match"):
            await approvals.check({"pin": "9999"}, "refund")
    with pytest.raises(ApprovalRefused, match=f"try again in {int(MAX_WAIT_S)} s"):
        await approvals.check(PIN, "refund")
    now[0] += MAX_WAIT_S
    assert (await approvals.check({"badge": "BADGE-M001"}, "refund")).via == "badge"
    assert (await approvals.check(PIN, "refund")).approver == "M001"  # cleared by the success
    with pytest.raises(ApprovalRefused, match="no supervisor") as e:
        await approvals.check({"supervisor": "M009", "pin": "8642"}, "refund")
    assert e.value.field == "approval.supervisor"
    with pytest.raises(InvalidInput) as e2:
        await approvals.check({"pin": "1", "badge": "2"}, "refund")
    assert e2.value.field == "approval"
    with pytest.raises(ApprovalError, match="no supervisor is configured"):
        await Approvals(()).check(PIN, "day_reopen")


def test_back_off_doubles_from_the_free_tries_up_to_the_cap() -> None:
    assert [wait_s(n, 3) for n in range(7)] == [0, 0, 0, 1, 2, 4, 8]
    assert wait_s(10**6, 3) == MAX_WAIT_S
    # A wall clock set back does not stretch a wait beyond the wait itself.
    assert Counter("*", 8, 10_000_000).remaining_ms(0) == 4000
    assert Counter("*", 8, 10_000_000).remaining_ms(10_003_000) == 1000


def test_hashes_are_salted_and_checked_in_constant_time() -> None:
    a, b = fast_hash("8642"), fast_hash("8642")
    assert a != b and verify_secret("8642", a) and verify_secret(" 8642\n", b)
    assert not verify_secret("8643", a) and not verify_secret("8642", "garbage")
    assert parse_hash(hash_secret("工号卡", n=2**10)).n == 2**10
    for bad in ("scrypt$3$8$1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==", "md5$x",
                "scrypt$1024$8$1$!!$AAAA"):
        with pytest.raises(ValueError):
            parse_hash(bad)


def _raw(**journal: Any) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    raw["journal"] = journal
    return raw


def test_the_journal_table_is_checked_with_dotted_keys() -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(_raw(approval_refund_over_fen=50000, receipt_printer="后厨", colour=1,
                          supervisors=[{"id": "M 1", "pin_hash": "md5$x"}, {"id": "M2"}],
                          workers=[{"name": "赵大勇"}]))
    errors = e.value.errors
    for expected in ("journal.receipt_printer: no printer '后厨' is configured",
                     "journal.colour: unknown key",
                     "journal.workers[0].id: is required",
                     "journal.supervisors[1]: needs pin_hash or badge_hash"):
        assert expected in errors, errors
    assert any(x.startswith("journal.supervisors[0].id:") for x in errors)
    assert any(x.startswith("journal.supervisors[0].pin_hash:") for x in errors)
    with pytest.raises(ConfigError) as e:
        parse_config(_raw(approval_void_over_fen=100))
    assert e.value.errors == ["journal.approval_void_over_fen: needs at least one "
                              "[[journal.supervisors]] to approve"]
    cfg = parse_config(_raw(approval_refund_over_fen=50000, receipt_printer="front",
                            supervisors=[{"id": "M001", "name": "刘强", "pin_hash": PIN_HASH}],
                            workers=[{"id": "W001", "badge": "BADGE-W001"}]))
    j = cfg.journal
    assert (j.enabled, j.receipt_printer, j.approval_refund_over_fen, j.approval_void_over_fen,
            j.approval_drawer) == (True, "front", 50000, None, True)
    assert j.worker_id("BADGE-W001\r") == "W001" and j.worker_id("W003") == "W003"
