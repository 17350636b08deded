"""Issue 11 #9 against a running daemon: wrong PINs back off per supervisor and for all, the
counters survive a restart, nobody is locked out for good, and every failure is journaled."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.journal_box import OTHER_PIN, SUPERVISOR_PIN, JournalBox

pytestmark = pytest.mark.timeout(180)


def reopen(b: JournalBox, approval: dict[str, str]) -> tuple[int, Any]:
    return b.api("POST", "/v1/day-reopen", {"reason": "漏录一笔现金销售", "clerk": "C001",
                                            "approval": approval})


def wrong(supervisor: str = "M001") -> dict[str, str]:
    return {"supervisor": supervisor, "pin": "0000"}


def audits(b: JournalBox, event: str) -> list[str]:
    return [r["body"]["detail"] for r in b.journal_records()
            if r["type"] == "audit" and r["body"]["event"] == event]


def until_checked(b: JournalBox, approval: dict[str, str], within_s: float = 30.0
                  ) -> tuple[int, Any]:
    """Repeat the attempt while the box answers that it must wait (no attempt is counted
    then); the first answer that checked the credential."""
    deadline = time.monotonic() + within_s
    while True:
        status, answer = reopen(b, approval)
        if status != 403 or "try again" not in answer["error"]["reason"]:
            return status, answer
        assert time.monotonic() < deadline, answer
        time.sleep(0.2)


def test_wrong_pins_back_off_survive_a_restart_and_are_journaled(
        journal_box: JournalBox) -> None:
    b = journal_box.start()
    status, _ = b.api("POST", "/v1/day-close", {"print": False})
    assert status == 201
    for _ in range(3):  # the free tries of M001
        status, answer = reopen(b, wrong())
        assert (status, answer["error"]["field"]) == (403, "approval"), answer
        assert "does not match" in answer["error"]["reason"]
    # The right PIN is not even checked now: M001 must wait.
    status, answer = reopen(b, {"supervisor": "M001", "pin": SUPERVISOR_PIN})
    assert (status, answer["error"]["field"]) == (403, "approval"), answer
    assert "try again in" in answer["error"]["reason"]
    # Another supervisor is not locked out by guesses at M001.
    status, answer = reopen(b, wrong("M002"))
    assert "does not match" in answer["error"]["reason"], answer

    b.stop()
    b.start()
    # The count goes on after the restart: the next wrong PIN is M001's 4th in a row.
    status, answer = until_checked(b, wrong())
    assert status == 403 and "does not match" in answer["error"]["reason"], answer
    failed = audits(b, "approval.failed")
    assert len(failed) == 5, failed
    assert "M001: 4 in a row" in failed[-1] and "all supervisors: 5 in a row" in failed[-1]
    status, answer = reopen(b, {"supervisor": "M001", "pin": SUPERVISOR_PIN})
    assert "try again in" in answer["error"]["reason"], answer
    assert audits(b, "approval.backoff"), "a refused attempt is journaled too"
    # Not a lock: once the back-off has passed, the right PIN re-opens the day.
    status, answer = until_checked(b, {"supervisor": "M001", "pin": SUPERVISOR_PIN})
    assert status == 201, answer
    assert "pin for M001" in audits(b, "approval.failed")[0]


def test_badges_and_anonymous_pins_share_one_counter_for_all(journal_box: JournalBox) -> None:
    b = journal_box.start()
    assert b.api("POST", "/v1/day-close", {"print": False})[0] == 201
    for i in range(6):  # the free tries of all ways in together
        approval = {"badge": f"BADGE-X{i}"} if i % 2 else {"pin": f"{i:04d}"}
        status, answer = reopen(b, approval)
        assert "does not match" in answer["error"]["reason"], answer
    # Now no way in is checked at once: not the badge, not a named supervisor, not M002.
    for approval in ({"badge": "BADGE-M001"}, {"supervisor": "M002", "pin": OTHER_PIN},
                     {"pin": SUPERVISOR_PIN}):
        status, answer = reopen(b, approval)
        assert (status, "try again in" in answer["error"]["reason"]) == (403, True), answer
    assert len(audits(b, "approval.failed")) == 6
    status, answer = until_checked(b, {"supervisor": "M002", "pin": OTHER_PIN})
    assert (status, answer["approver"]) == (201, "M002"), answer


def big_sale(n: int) -> dict[str, Any]:
    """A sale of 510.00 yuan: refunding it needs a supervisor (above 500.00)."""
    return {"order": f"XS-SEC-{n:04d}", "till": "T1", "clerk": "C001",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 60, "unit_price": 850}],
            "payments": [{"method": "cash", "amount": 51000}]}


def test_concurrent_guesses_do_not_slip_past_the_back_off(journal_box: JournalBox) -> None:
    b = journal_box.start()
    sales = []
    for n in range(30):
        status, sale = b.api("POST", "/v1/sales", big_sale(n))
        assert status == 201, sale
        sales.append(sale["seq"])

    def refund(i: int) -> tuple[int, Any]:
        # Each refund of its own sale: nothing but the approvals serialises them.
        return b.api("POST", "/v1/refunds", {
            "sale_seq": sales[i], "reason": "整单退货", "clerk": "C001",
            "lines": big_sale(i)["lines"], "approval": {"supervisor": "M001", "pin": f"{i:04d}"}})

    with ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(refund, range(30)))
    assert all(status == 403 for status, _ in answers), answers
    checked = [a for _, a in answers if "does not match" in a["error"]["reason"]]
    # 3 free tries, then 1 s, 2 s, 4 s of waiting between checks: a burst that took under
    # 7 s cannot have had more than 5 of its guesses checked.
    assert 3 <= len(checked) <= 5, [a["error"]["reason"] for _, a in answers]
    assert len(audits(b, "approval.failed")) == len(checked)
    assert len(audits(b, "approval.backoff")) == 30 - len(checked)
